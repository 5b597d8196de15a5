"""The engine's rulesets in force: putting one in force, restoring those stored, and which judges where.

A part of ``Engine`` (``gridcore/engine.py``), kept in a module of its own: which
ruleset judges at a node and a time is ``gridcore.governing``'s timeline; here the
engine puts a ruleset in force (``use_ruleset``: checked against the roster,
stored, and every event at or after it judged again), restores the stored ones
on opening and ``refresh``, and answers what is in force (``ruleset_at``,
``policy``, ``rulesets_in_force``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from .clock import require_aware
from .enginestate import EngineState
from .governing import RulesetInForce
from .metrics import Metric
from .onrecord import Proposed

if TYPE_CHECKING:
    from .engine import Engine
    from .onrecord import LeftOnRecord
    from .rules import Diagnostic, Ruleset, Section
    from .rules.sections import P

#: The collection holding the rulesets put in force, each under its effective time and a count.
RULESETS = "rulesets"
#: The sections a stored ruleset had when it was put in force (to tell, on a later
#: open, which of them no loaded plugin reads any more).
SECTIONS_KEY = "sections"
#: The subtree a stored ruleset governs (a node id); absent: the whole tree.
NODE_KEY = "node"


class Enacting(EngineState):
    """The ruleset methods of ``Engine``."""

    def use_ruleset(self, ruleset: Ruleset | str | Path, *, effective: datetime | None = None,
                    node: str | None = None, search_path: Sequence[str | Path] = ()) -> Ruleset:
        """Put a ruleset in force from ``effective`` (default: now), for a subtree or the whole tree.

        ``node``: the subtree it governs (a node id); default: the one the
        file names (``applies to: NODE`` / ``适用于：NODE``, an id or a name),
        else the whole tree.  An event is judged by the ruleset of the nearest
        enclosing subtree that has one in force at its time (``ruleset_at``).
        A node the community's tree does not hold is a ``RulesError`` naming
        it (at the file's line when the file wrote it).

        A path's ``extends "name"`` is looked up in its own folder, then in
        ``search_path``, then in ``$GRIDCORE_RULESETS`` (``rules.search_folders``).

        A path is parsed, checked and compiled first; any error raises
        ``gridcore.rules.RulesError`` and the rulesets in force stay as they were.
        Events already recorded at or after ``effective`` are judged again under
        it (every plugin's state is re-derived from the store): back-dating a
        ruleset can change points, escalations and ratings already shown.
        ``recorded_since(effective)`` says how many events that is.  Judged again as every replay judges
        stored events (time order), not against the rules that refuse an event before it is stored: those
        the ruleset would have refused stay on record, judged as they were; ``left_on_record`` names them.
        """
        compiled, subtree = self._compiled(ruleset, node, search_path)
        problems = self.hooks.check_ruleset(self.community, compiled)
        if any(problem.is_error for problem in problems):
            from .rules import RulesError

            raise RulesError(problems)
        for problem in problems:  # warnings (a grid far from its planned size) are kept, not refused
            self._warn_problem(problem)
        when = require_aware(effective or self.clock.now())
        self._check_writable("put a ruleset in force")
        if self._pending:
            self._woken()  # the plugins hear of the ruleset with the state they hold
        existing = self._timeline.already(when, compiled, subtree)
        if existing is not None:
            return existing
        count = len(self._timeline)
        key = f"{when.astimezone(UTC).isoformat()}|{count:04d}"
        # a ruleset for the whole tree is stored as it always was (no node)
        if self._high_water is not None and self._high_water >= when or (
                self._high_water is None and self.store.position()):
            self._mark_late(when, "")  # (the events at or after ``when`` are judged again under it)
        self.store.put(RULESETS, key, {"effective": when.isoformat(), **compiled.to_document(),
                                       SECTIONS_KEY: sorted(compiled.items),
                                       **({} if subtree is None else {NODE_KEY: subtree})})
        self._timeline.put(when, compiled, subtree)
        self.hooks.on_ruleset_loaded(cast("Engine", self), compiled, when)
        self._ruleset_keys.add(key)
        if self._high_water is not None and self._high_water >= when:
            self.rebuild()
        self._checkpointed = 0  # the checkpoints stored so far were taken under other rulesets
        self.checkpoint()
        return compiled

    def left_on_record(self, ruleset: Ruleset | str | Path, *, effective: datetime | None = None,
                       node: str | None = None, search_path: Sequence[str | Path] = ()) -> list[LeftOnRecord]:
        """The stored events ``ruleset``, put in force from ``effective`` (default: now) for ``node``'s subtree
        (default: the one the file names, else the whole tree), would have refused had it been in force when
        they were recorded, by time: they stay on record, judged as they were (``gridcore.onrecord``).

        Each plugin answers (``gridcore_check_stored``): the escalation plugin names the reports of a category
        a closed list does not hold, with the closest listed one.  Ask before or after ``use_ruleset`` (the
        ruleset already in force from then is the same answer).  Reads only: nothing is put in force.  A
        ruleset that does not compile is a ``RulesError``, as for ``use_ruleset``.
        """
        compiled, subtree = self._compiled(ruleset, node, search_path)
        when = require_aware(effective or self.clock.now())
        if self._pending:
            self._woken()
        in_force = [entry for entry in self._timeline.in_force()
                    if not (entry.effective == when and entry.node == subtree
                            and entry.ruleset.fingerprint == compiled.fingerprint)]
        proposed = Proposed(lambda: self.community, in_force, compiled, when, subtree)
        return self.hooks.check_stored(cast("Engine", self), proposed)

    def _compiled(self, ruleset: Ruleset | str | Path, node: str | None,
                  search_path: Sequence[str | Path]) -> tuple[Ruleset, str | None]:
        """``ruleset`` compiled for this community's roles, its levels checked, and the subtree it would govern."""
        from .rules import Ruleset as RulesetClass
        from .rules import load_ruleset
        from .rules.subtree import governed_node

        # role names are checked against this community's roles (the built-in ones and the
        # roster's own); a ruleset compiled elsewhere is compiled again with them if it was not
        compiled = ruleset.for_roster(self.community.roles) if isinstance(ruleset, RulesetClass) else load_ruleset(
            Path(ruleset), sections=self.hooks.register_sections(), metrics=self.hooks.register_metrics(),
            search_path=search_path, roles=self.community.roles
        )
        self._check_levels(compiled)
        return compiled, governed_node(compiled, self.community.hierarchy, node)

    def _warn_problem(self, problem: Diagnostic) -> None:
        """Keep a ruleset's warning once, in English and Chinese.

        A parent's line is the same problem whichever file of the district brought it: the
        base put in force by its path, then a community's variant that extends it by name
        (``yinzhou.rules:35`` and ``/srv/rules/yinzhou.rules:35``), so a file is known by its
        name here, as a ruleset's fingerprint knows it.
        """
        key = (Path(problem.file).name, problem.line, problem.column, problem.message)
        if key in self._problems_warned:
            return
        self._problems_warned.add(key)
        zh = f" / {problem.message_zh}" if problem.message_zh else ""
        self._warn_once(f"{problem.location()}: {problem.message}{zh}")

    def recorded_since(self, when: datetime) -> int:
        """How many stored events are at or after ``when``.

        A ruleset put in force from ``when`` judges these again (``use_ruleset``
        re-derives every plugin's state from them): ask before back-dating one.
        """
        return sum(1 for _ in self.store.events(since=require_aware(when)))

    def ruleset_at(self, when: datetime, node: str | None = None) -> Ruleset | None:
        """The ruleset that judges at ``node`` at ``when``.

        That of the nearest subtree enclosing ``node`` (the node itself, its
        parent, ...) that has one in force at ``when``, else the whole tree's:
        the one in force then, or its earliest for times before any.
        ``node`` None: the whole tree's rulesets only (as before subtrees had
        their own).  ``UnknownNameError`` for a node the tree does not hold.
        """
        return self._timeline.at(when, node)

    def policy(self, section: Section[P], *, at: datetime, node: str | None = None) -> P | None:
        """A section's policy in force at ``at``: the ruleset judging then (at ``node``), on its local date.

        What a plugin calls to judge an event (``engine.policy(POINTS, at=event.time,
        node=event.node)``): the ruleset of the nearest enclosing subtree with one
        in force (``ruleset_at``); ``node`` None asks the whole tree's.  None when
        no ruleset is in force or it has no such section.
        """
        return self._timeline.policy(section, at=at, node=node)

    @property
    def ruleset(self) -> Ruleset | None:
        """The whole tree's ruleset in force now (the latest one activated; with none for
        the whole tree, the latest of any subtree)."""
        return self._timeline.latest

    def rulesets(self) -> list[tuple[datetime, Ruleset]]:
        """Every ruleset put in force, with the time it took effect, in that order
        (those of subtrees too: ``rulesets_in_force`` says which subtree each governs)."""
        return [(entry.effective, entry.ruleset) for entry in self._timeline.in_force()]

    def rulesets_for(self, node: str | None = None) -> list[tuple[datetime, Ruleset]]:
        """The rulesets put in force for exactly ``node``'s subtree (None: the whole tree), in time order."""
        return self._timeline.for_node(node)

    def rulesets_in_force(self) -> list[RulesetInForce]:
        """Every ruleset put in force: when, which, and the subtree it governs (None: the whole tree),
        by effective time (the whole tree's first at equal times)."""
        return self._timeline.in_force()

    def _check_levels(self, ruleset: Ruleset) -> None:
        expected = tuple(getattr(ruleset, "levels", ()) or ())
        if expected and tuple(expected) != tuple(self.community.hierarchy.levels):
            from .rules import RulesError

            raise RulesError.simple(
                f"ruleset {ruleset.name!r} expects levels {' > '.join(expected)} but community "
                f"{self.community.name!r} has {' > '.join(self.community.hierarchy.levels)}"
            )

    def _restore_rulesets(self) -> None:
        sections = None
        metrics: list[Metric] = []
        unserved: dict[str, list[str]] = {}
        self._timeline.clear()
        self._ruleset_keys = set()
        for key, doc in self.store.items(RULESETS):
            self._ruleset_keys.add(key)
            from .rules import Ruleset as RulesetClass

            if sections is None:
                sections = self.hooks.register_sections()
                metrics = self.hooks.register_metrics()
            compiled = RulesetClass.from_document(doc, sections=sections, metrics=metrics,
                                                  roles=self.community.roles)
            if compiled.roles is None:  # put in force before its roles were checked against the roster
                unchecked = [w for w in compiled.warnings if "no roster was given" in w.message]
                self._warn_once(
                    f"the stored ruleset {compiled.name} names roles the roster does not have; they match "
                    f"nobody: {', '.join(f'{w.location()}: {w.message}' for w in unchecked) or '?'} / "
                    f"已保存的规则集 {compiled.name} 写了花名册中没有的角色，这些规则不适用于任何人")
            # a document stored before rulesets had subtrees has no node: the whole tree
            node = doc.get(NODE_KEY)
            self._timeline.put(datetime.fromisoformat(doc["effective"]), compiled,
                               node if isinstance(node, str) else None)
            for name in doc.get(SECTIONS_KEY, ()):
                if name not in compiled.items:
                    unserved.setdefault(name, []).append(compiled.name)
        for name, rulesets in sorted(unserved.items()):
            names = ", ".join(dict.fromkeys(rulesets))
            warning = (
                f"the stored ruleset {names} has a section {name!r} that no loaded plugin reads "
                f"(disabled or not installed): its rules are not applied / 已保存的规则集 {names} "
                f"含有栏目 {name!r}，但没有已加载的插件处理它（已禁用或未安装），这些规则不会生效"
            )
            if warning not in self.warnings:  # a refresh restores the rulesets again
                self.warnings.append(warning)

    def _rulesets_changed(self) -> bool:
        return {key for key, _ in self.store.items(RULESETS)} != self._ruleset_keys
