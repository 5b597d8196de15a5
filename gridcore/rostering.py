"""The engine's roster: the community it was opened with, grown, dated, and taken on from another process.

A part of ``Engine`` (``gridcore/engine.py``), kept in a module of its own: which
community an opening uses (``_resolve_community``: the saved one, or one that
only adds to it), taking on a grown roster without judging any event again
(``_grow``, ``gridcore.growth``), recording when a node joined
(``record_joined``), and the roster's stamp that lets a running engine's
``refresh`` notice another process growing it (``_roster_grown``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .clock import require_aware
from .community import Community
from .enginestate import EngineState
from .errors import GridcoreError, StoreError
from .growth import carry_joined, date_joined, roster_growth, stamp_joined
from .plugin_host import Hooks
from .store import Store

#: The collection of the store's own documents (the community, the roster's stamp, ...).
META = "meta"
#: The key under ``META`` of the saved roster's fingerprint (``{"fingerprint": SHA-256}``), written after
#: the roster each time it is saved: ``refresh`` reads this small document, not the roster, to tell
#: whether another process grew it (``gridcore init --community`` on the running store)
ROSTER_STAMP = "roster"


class Rostering(EngineState):
    """The roster methods of ``Engine``."""

    def record_joined(self, node: str, when: datetime) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Record that ``node`` (its subtree) and the members holding roles in it joined the store at ``when``.

        For a store that grew (``gridcore init --community``) before joining times
        were recorded: what it added has none, so an assessment rates it for the
        periods before it joined.  Refused (``gridcore.growth.date_joined``,
        nothing changed) when ``node`` is recorded as joined at another time, or
        when the store holds events of its subtree or of those members before
        ``when``; a time later than the clock's now too.  The roster is saved
        with the times, a checkpoint taken under it (the state is the same: only
        assessments read joining times) and the roster's stamp written, so a
        running engine's ``refresh`` takes the times on; a store grown before the
        stamp was written gets it even when the times are there already.
        Returns the node and member ids newly dated.
        """
        self._check_writable("record a joining time")
        when = require_aware(when)
        if when > self.clock.now():
            raise GridcoreError(f"{when.isoformat()} is later than the engine's clock "
                                f"({self.clock.now().isoformat()}): a node joins at a time that has come "
                                "(加入时间不能晚于当前时间)")
        self.refresh()
        community, nodes, members = date_joined(self.community, node, when, self.events())
        if nodes or members:
            self.store.put(META, "community", community.to_document())
            self.community = community
            self._local_times.forget()
            self._metrics = None
            self._checkpointed = 0  # (the checkpoints stored were taken under the roster without the times)
            self.checkpoint()
        stamp = {"fingerprint": self._community_fingerprint()}
        if self.store.get(META, ROSTER_STAMP) != stamp:
            self.store.put(META, ROSTER_STAMP, stamp)
        self._roster_stamp = stamp
        return nodes, members

    def _no_roster_stamp(self) -> None:
        """A store saved before the roster's stamp was written (785125a, 2026-12-06), grown or not: ``refresh``
        reads the stamp to notice another process growing the roster, so an engine kept running on it never
        does.  A writable engine records the stamp once (of the saved roster, as a growth writes it: the same
        document again is harmless, and any engine kept running that finds it compares the saved roster with
        its own); a read-only one says what to do.  Either way a store that grew before joining times were
        recorded may lack them too: the warning names ``gridcore hierarchy joined``."""
        joined = ("; if a community was added to this store before 2026-12-06, record when it joined: gridcore "
                  "hierarchy joined NODE --at TIME")
        joined_zh = "；如此前曾新增社区，请用 gridcore hierarchy joined 节点 --at 时间 补记其加入时间"
        if self._read_only:
            self._warn_once("the roster's stamp is not saved in this store (made before 2026-12-06): an engine "
                            "kept running (gridcore serve) does not notice another process growing the roster; "
                            "the first command that writes to the store records it (gridcore tick, ingest, "
                            f"hierarchy joined NODE --at TIME){joined} / 库中未保存花名册标记（2026-12-06 之前建的库），"
                            f"运行中的服务察觉不到花名册扩充；下一次写入库的命令会写入此标记{joined_zh}")
            return
        stamp = {"fingerprint": self._community_fingerprint()}
        self.store.put(META, ROSTER_STAMP, stamp)
        self._roster_stamp = stamp
        self._warn_once("the roster's stamp was not saved in this store (made before 2026-12-06): recorded now, so "
                        f"an engine kept running notices the roster growing{joined} / 库中此前未保存花名册标记"
                        f"（2026-12-06 之前建的库），现已写入，运行中的服务可察觉花名册扩充{joined_zh}")

    def _grow(self, community: Community) -> None:
        """Take on a roster that only adds to the one in use: no event is judged again.

        Every recorded event names only what the old roster held (an event naming
        an unknown node or person was refused), so the derived state stands; the
        register gains the new households, and the rulesets in force are checked
        against the grown roster first (an error refuses the growth, changing nothing).
        """
        growth = roster_growth(self.community.to_document(), community.to_document())
        problems = [problem for _, ruleset in self._timeline.from_now(self.clock.now())
                    for problem in self.hooks.check_ruleset(community, ruleset)]
        if any(problem.is_error for problem in problems):
            from .rules import RulesError

            raise RulesError(problems)
        refused = self.households.grow(community, growth.added.get("households", ()),
                                       growth.added.get("residents", ()))
        if refused:
            raise GridcoreError("the grown roster cannot be taken on: " + "; ".join(refused))
        self.community = stamp_joined(community, growth, self.clock.now())
        self._metrics = None
        self._timeline.regrow()  # new nodes: which ruleset judges where is worked out again
        self._local_times.forget()  # (the new community's zone read again)
        for problem in problems:
            self._warn_problem(problem)
        self._warn_once(f"roster grown / 花名册已扩充: {growth.summary()}; "
                        "the results already derived are kept / 已有结果保持不变")

    def _roster_grown(self) -> bool:
        """True when another process saved a grown roster, now this engine's community (``refresh``).

        The roster's stamp (``ROSTER_STAMP``, one small document) is read every time;
        the roster itself only when the stamp changed.  The saved roster is taken as
        ``Engine.open`` takes it (joining times included); the caller rebuilds the state.
        """
        stamp = self.store.get(META, ROSTER_STAMP)
        if stamp == self._roster_stamp:
            return False
        saved = self.store.get(META, "community")
        mine = self.community.to_document()
        if saved is None or saved == mine:  # (this engine opened after the roster was saved, before its stamp)
            self._roster_stamp = stamp
            return False
        growth = roster_growth(mine, saved)
        # (one that differs only by the joining times recorded, ``record_joined``, is taken on too)
        if growth.changed and (self._position or self.store.position()):
            raise GridcoreError(
                f"the roster saved in the store {self.store.url} changed otherwise than by growing while this "
                f"engine had it open: " + "; ".join(growth.changed[:5])
                + ". Only a store without events may be given another roster; open the store again "
                "(库中保存的花名册已被改动而非新增，请重新打开存储)"
            )
        self.community = Community.from_document(saved)
        self._roster_stamp = stamp
        self._metrics = None
        self._timeline.regrow()  # new nodes: which ruleset judges where is worked out again
        self._local_times.forget()  # (the new community's zone read again)
        if growth.grows:
            self._warn_once(f"roster grown / 花名册已扩充: {growth.summary()} (another process took it on; "
                            "the state is as opening the store gives / 由另一进程保存，状态与重新打开存储相同)")
        return True


def _resolve_community(
    community: Community | str | Path | None, store: Store, hooks: Hooks
) -> tuple[Community, bool, Community | None]:
    """The community to open, whether it must be saved into the store, and the saved one it grows.

    A store that already holds events keeps its community: opening it with a
    different one is refused before anything is written, unless the new one
    only adds to it (``gridcore.growth``); then the saved one comes third.
    """
    saved = store.get(META, "community")
    if saved is None and store.position() > 0:
        raise StoreError(
            f"the store {store.url} is damaged: it holds {store.count()} events but not the community "
            "they belong to (its documents are missing). Restore it from a backup or migrate its events "
            "into a new store; do not run gridcore init on it (存储已损坏)"
        )
    if community is None:
        if saved is None:
            raise GridcoreError(
                f"the store {store.url} has no community yet; open it once with a community "
                "(gridcore init --community DIR) (库中还没有社区：请先用 gridcore init --community 目录 保存社区)"
            )
        return Community.from_document(saved), False, None
    if isinstance(community, Community):
        the_community = community
    else:
        the_community = hooks.load_community(Path(community))
    if saved is not None and saved.get("joined"):
        # when what an earlier growth added joined: the store's record, which roster files do not carry
        the_community = carry_joined(Community.from_document(saved), the_community)
    document = the_community.to_document()
    if saved is not None and saved != document and store.position() > 0:
        growth = roster_growth(saved, document)
        if growth.grows:
            return the_community, True, Community.from_document(saved)
        held = saved.get("name", "?")
        raise GridcoreError(
            f"the store {store.url} holds the events of {held} ({store.count()} events); "
            f"it cannot be opened with {the_community.name}'s roster as given. Use a new store, "
            f"or open this one without --community to keep its own (库中是 {held} 的事件，不能用 "
            f"{the_community.name} 的花名册打开：请换一个新库，或不加 --community 打开)"
            if held != the_community.name
            else f"the store {store.url} holds {held} with a different roster and already has "
            f"{store.count()} events; a roster may only grow under recorded events (add nodes, people, "
            "households), and this one changes what is there: " + "; ".join(growth.changed[:5])
            + (f" (and {len(growth.changed) - 5} more)" if len(growth.changed) > 5 else "")
            + ". Keep the saved items as they are and add to them, or use a new store "
            "(花名册只能在已有记录之上新增，不能修改或删除已有条目)"
        )
    return the_community, saved != document, None
