"""Calling hooks through one typed facade (``Hooks``).

The plugin manager it calls is built in ``gridcore.plugin_loading``, whose
names this module hands on (``get_plugin_manager``, ``PluginManager``, ...).

The core calls every hook through ``Hooks``, always with keyword arguments and
typed results; per-event hooks go straight to the implementations that want
the event's kind (``EventKinds``), worked out once per class of event
(``gridcore.hook_routing``, which ``Hooks`` derives from).  An exception raised
inside a hook reaches the caller as a ``PluginError`` naming the plugin and the
hook (errors meant for people, ``GridcoreError`` and its subclasses, pass
through unchanged).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from .errors import PluginError, RosterError, StoreError
from .hook_routing import EventKinds, HookRouting, _Call, _call_all
from .plugin_loading import (
    CORE_PLUGINS,
    ENTRY_POINT_GROUP,
    PLUGINS_ENV,
    STATE_SUFFIX,
    PluginFailure,
    PluginManager,
    PluginWarning,
    _shown,
    get_plugin_manager,
    plugin_selection,
)

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

    from .community import Community
    from .engine import Engine
    from .events import Event
    from .explain import Explanation, Outcome
    from .metrics import Metric
    from .onrecord import LeftOnRecord, Proposed
    from .reports import Report
    from .rules import Diagnostic, Ruleset, Section
    from .store import Store


class Hooks(HookRouting):
    """The only way the core calls hooks: keyword arguments, typed results.

    An exception a plugin raises inside a hook comes out as a ``PluginError``
    naming the plugin and the hook (``GridcoreError``s pass through: they are
    meant for the person using the engine).
    """

    def register_event_types(self) -> list[type[Event]]:
        try:
            return _flatten(self._calls.gridcore_register_event_types(), "gridcore_register_event_types")
        except Exception as exc:
            raise self._failed("gridcore_register_event_types", exc) from exc

    def register_sections(self) -> list[Section[Any]]:
        try:
            return _flatten(self._calls.gridcore_register_sections(), "gridcore_register_sections")
        except Exception as exc:
            raise self._failed("gridcore_register_sections", exc) from exc

    def register_commands(self) -> list[click.Command]:
        try:
            return _flatten(self._calls.gridcore_register_commands(), "gridcore_register_commands")
        except Exception as exc:
            raise self._failed("gridcore_register_commands", exc) from exc

    def register_routes(self) -> list[BaseRoute]:
        try:
            return _flatten(self._calls.gridcore_register_routes(), "gridcore_register_routes")
        except Exception as exc:
            raise self._failed("gridcore_register_routes", exc) from exc

    def register_reports(self) -> list[Report]:
        try:
            return _flatten(self._calls.gridcore_register_reports(), "gridcore_register_reports")
        except Exception as exc:
            raise self._failed("gridcore_register_reports", exc) from exc

    def register_metrics(self) -> list[Metric]:
        try:
            return _flatten(self._calls.gridcore_register_metrics(), "gridcore_register_metrics")
        except Exception as exc:
            raise self._failed("gridcore_register_metrics", exc) from exc

    def storage_backend(self, url: str, *, create: bool = True) -> Store:
        try:
            store = self._calls.gridcore_storage_backend(url=url, create=create)
        except Exception as exc:
            raise self._failed("gridcore_storage_backend", exc) from exc
        if store is None:
            raise StoreError(f"no storage backend knows the store URL {url!r}")
        return store  # type: ignore[no-any-return]

    def load_community(self, path: Path) -> Community:
        try:
            community = self._calls.gridcore_load_community(path=path)
        except Exception as exc:
            raise self._failed("gridcore_load_community", exc) from exc
        if community is None:
            raise RosterError(
                f"{path}: no installed roster format reads this (is gridcore_app installed? "
                "a community folder holds community.yaml)"
            )
        return community  # type: ignore[no-any-return]

    def on_open(self, engine: Engine) -> None:
        try:
            self._calls.gridcore_on_open(engine=engine)
        except Exception as exc:
            raise self._failed("gridcore_on_open", exc) from exc

    def check_ruleset(self, community: Community, ruleset: Ruleset) -> list[Diagnostic]:
        problems: list[Diagnostic] = []
        try:
            answers = self._calls.gridcore_check_ruleset(community=community, ruleset=ruleset)
        except Exception as exc:
            raise self._failed("gridcore_check_ruleset", exc) from exc
        for answer in answers:
            if answer:
                problems.extend(answer)
        return problems

    def check_stored(self, engine: Engine, proposed: Proposed) -> list[LeftOnRecord]:
        found: list[LeftOnRecord] = []
        try:
            answers = self._calls.gridcore_check_stored(engine=engine, proposed=proposed)
        except Exception as exc:
            raise self._failed("gridcore_check_stored", exc) from exc
        for answer in answers:
            if answer:
                found.extend(answer)
        return sorted(found, key=lambda left: (left.time, left.event_id))

    def on_ruleset_loaded(self, engine: Engine, ruleset: Ruleset, effective: datetime) -> None:
        self.ticking = None  # (any plugin's state may change: every ``gridcore_next_due`` asked again)
        try:
            self._calls.gridcore_on_ruleset_loaded(engine=engine, ruleset=ruleset, effective=effective)
        except Exception as exc:
            raise self._failed("gridcore_on_ruleset_loaded", exc) from exc

    def validate_event(self, engine: Engine, event: Event) -> list[str]:
        reasons: list[str] = []
        try:
            # (``_route`` written out: asked before every event)
            kept = self._routes.get("gridcore_validate_event")
            # (a route is kept only from a manager that counts its changes: its generation read, not asked for)
            route = kept[1].get(type(event)) if kept is not None and kept[0] == self.pm.generation else None  # type: ignore[attr-defined]
            if route is None:
                route = self._new_route("gridcore_validate_event", type(event))
            if isinstance(route, list):
                if not route:  # (no plugin judges such events: most of them, asked for every one)
                    unjudged = self.unjudged
                    if unjudged[0] != self.pm.generation:  # type: ignore[attr-defined]
                        unjudged = self.unjudged = (self.pm.generation, set())  # type: ignore[attr-defined]
                    unjudged[1].add(type(event))
                    return reasons
                # (``_call_all`` written out: asked before every event a plugin judges)
                args = (engine, event)
                answers = []
                for function, picks in route:
                    if picks is None:
                        answer = function(engine, event)
                    elif picks.__class__ is int:
                        answer = function(args[picks])
                    else:
                        answer = function(*[args[i] for i in picks])  # type: ignore[union-attr]
                    if answer is not None:
                        answers.append(answer)
            else:
                answers = route(engine=engine, event=event)
        except Exception as exc:
            raise self._failed("gridcore_validate_event", exc, event) from exc
        for answer in answers:
            if answer:
                if isinstance(answer, str):
                    raise PluginError("gridcore_validate_event must return a list of reasons, not a string")
                reasons.extend(answer)
        return reasons

    def on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        ticking = self.ticking
        if ticking is not None:  # (the plugins with a ``gridcore_next_due`` this event reaches: asked again)
            reached = ticking.reached.get(type(event))
            if reached is None:
                reached = self._reached(ticking, type(event))
            if reached:
                ticking.touch(reached)
        try:
            # (``_route`` and ``_call_all`` written out: called for every event, and the answers are not kept)
            kept = self._routes.get("gridcore_on_event")
            route = kept[1].get(type(event)) if kept is not None and kept[0] == self.pm.generation else None  # type: ignore[attr-defined]
            if route is None:
                route = self._new_route("gridcore_on_event", type(event))
            if isinstance(route, list):
                args = (engine, event, replaying)
                for function, picks in route:
                    if picks is None:
                        function(engine, event, replaying)
                    elif picks.__class__ is int:
                        function(args[picks])
                    else:
                        function(*[args[i] for i in picks])  # type: ignore[union-attr]
            else:
                route(engine=engine, event=event, replaying=replaying)
        except Exception as exc:
            raise self._failed("gridcore_on_event", exc, event) from exc

    def validate_stored(self, engine: Engine, event: Event) -> list[str]:
        """Every plugin's reasons why ``event``, stored and replayed, no longer counts (``[]``: it does)."""
        try:
            # (``_route`` written out: asked before every replayed event, of which most plugins judge none)
            kept = self._routes.get("gridcore_validate_stored")
            route = (kept[1].get(type(event)) if kept is not None and kept[0] == getattr(self.pm, "generation", None)
                     else None)
            if route is None:
                route = self._new_route("gridcore_validate_stored", type(event))
            if isinstance(route, list):
                if not route:
                    return []
                answers = _call_all(route, (engine, event))
            else:
                answers = route(engine=engine, event=event)
        except Exception as exc:
            raise self._failed("gridcore_validate_stored", exc, event) from exc
        reasons: list[str] = []
        for answer in answers:
            if answer:
                if isinstance(answer, str):
                    raise PluginError("gridcore_validate_stored must return a list of reasons, not a string")
                reasons.extend(answer)
        return reasons

    def on_event_ignored(self, engine: Engine, event: Event, reasons: list[str]) -> None:
        ticking = self.ticking
        if ticking is not None:
            reached = ticking.reached.get(type(event))
            if reached is None:
                reached = self._reached(ticking, type(event))
            if reached:
                ticking.touch(reached)
        try:
            route = self._route("gridcore_on_event_ignored", type(event))
            if isinstance(route, list):
                _call_all(route, (engine, event, reasons))
            else:
                route(engine=engine, event=event, reasons=reasons)
        except Exception as exc:
            raise self._failed("gridcore_on_event_ignored", exc, event) from exc

    def on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        ticking = self.ticking
        # (``ticking`` is made only from a manager that counts its changes: its generation read, not asked for)
        if ticking is not None and ticking.calm and ticking.generation == self.pm.generation:  # type: ignore[attr-defined]
            until = ticking.until
            if until is None or now < until:
                return []  # (every plugin that ticks said nothing of it can fall due by ``now``: most events)
        try:
            # (``_plan`` written out when its plan is kept: asked before every event)
            kept = self._plans.get("gridcore_on_tick")
            generation = getattr(self.pm, "generation", None)
            plan = kept[1] if kept is not None and kept[0] == generation else self._plan("gridcore_on_tick")
            if plan is None:
                self.ticking = None  # (through pluggy: every plugin asked, and no hint kept)
                return _flatten(self._calls.gridcore_on_tick(engine=engine, now=now), "gridcore_on_tick")
            if ticking is None or ticking.generation != generation:
                ticking = self.ticking = self._new_ticking(generation or 0, plan)  # (a plan: counted)
            # (``_call_all`` and ``_flatten`` written out: called before every event, which most often
            # finds nothing due)
            args = (engine, now)
            out: list[Event] = []
            wrong = None  # (the first answer that is no list: refused once every plugin was asked)
            due, stale = ticking.due, ticking.stale
            for at, (function, picks) in enumerate(plan):
                hint = ticking.hints[at]
                if hint is not None:
                    if stale[at]:
                        due[at] = self._next_due(hint, engine)
                        stale[at] = False
                    when = due[at]
                    if when is None or now < when:
                        continue  # (its promise: nothing of it falls due by ``now``)
                    stale[at] = True  # (its tick may change its state: asked again)
                if picks is None:
                    answer = function(engine, now)
                elif picks.__class__ is int:
                    answer = function(args[picks])
                else:
                    answer = function(*[args[i] for i in picks])  # type: ignore[union-attr]
                if answer is not None:
                    if isinstance(answer, (list, tuple)):
                        if answer:
                            out.extend(answer)
                    elif wrong is None:
                        wrong = answer
            if wrong is not None:
                raise PluginError(f"gridcore_on_tick must return a list, got {type(wrong).__name__}")
            ticking.settle()
            return out
        except Exception as exc:
            raise self._failed("gridcore_on_tick", exc) from exc

    def _next_due(self, hint: _Call, engine: Engine) -> datetime | None:
        """A plugin's answer to ``gridcore_next_due``, checked."""
        function, picks = hint
        try:
            answer = function(engine) if picks is None else function()
        except Exception as exc:
            raise self._failed("gridcore_next_due", exc) from exc
        if answer is None or (isinstance(answer, datetime) and answer.utcoffset() is not None):
            return answer
        shown = f"the naive {answer!r}" if isinstance(answer, datetime) else type(answer).__name__
        raise PluginError(f"gridcore_next_due must return an aware datetime or None, got {shown}")

    def save_state(self, engine: Engine, plugin: object) -> dict[str, Any] | None:
        """``plugin``'s own answer to ``gridcore_save_state`` (no other plugin is called)."""
        caller = self._only("gridcore_save_state", plugin)
        try:
            answers = caller(engine=engine)
        except Exception as exc:
            raise self._failed("gridcore_save_state", exc) from exc
        answer = answers[0] if answers else None
        if answer is not None and not isinstance(answer, dict):
            raise PluginError(f"gridcore_save_state must return a dict or None, got {type(answer).__name__}")
        return answer

    def restore_state(self, engine: Engine, plugin: object, document: dict[str, Any]) -> None:
        """Give ``plugin`` (and no other) the document it saved."""
        caller = self._only("gridcore_restore_state", plugin)
        self.ticking = None  # (its state is replaced: every ``gridcore_next_due`` asked again)
        if not caller.get_hookimpls():
            raise PluginError(f"plugin {_shown(self.pm.get_name(plugin) or '?')!r} implements "
                              "gridcore_save_state but not gridcore_restore_state")
        try:
            caller(engine=engine, document=document)
        except Exception as exc:
            raise self._failed("gridcore_restore_state", exc) from exc

    def without(self, skip: Iterable[object]) -> Hooks:
        """The same hooks, calling every plugin but those in ``skip`` (a partial replay)."""
        self.ticking = None
        return _Without(self.pm, tuple(skip), self)

    def on_flush(self, engine: Engine) -> None:
        try:
            self._calls.gridcore_on_flush(engine=engine)
        except Exception as exc:
            raise self._failed("gridcore_on_flush", exc) from exc

    def on_close(self, engine: Engine) -> None:
        try:
            self._calls.gridcore_on_close(engine=engine)
        except Exception as exc:
            raise self._failed("gridcore_on_close", exc) from exc

    def explain(self, engine: Engine, decision: str, lang: str = "en") -> Explanation | None:
        try:
            return self._calls.gridcore_explain(engine=engine, decision=decision,  # type: ignore[no-any-return]
                                                lang=lang)
        except Exception as exc:
            raise self._failed("gridcore_explain", exc) from exc

    def collect_outcomes(self, engine: Engine, plugins: frozenset[str] | None = None) -> list[Outcome]:
        """Every plugin's outcomes; or (``plugins``) only those registered under one of these names, or
        whose state is attached under one (``Engine.outcomes``)."""
        try:
            if plugins is None:
                caller = self._calls.gridcore_collect_outcomes
            else:
                skip = [plugin for name, plugin in self.pm.list_name_plugin()
                        if plugin is not None and name.removesuffix(STATE_SUFFIX) not in plugins]
                caller = self.pm.subset_hook_caller("gridcore_collect_outcomes", remove_plugins=skip)
            # pluggy calls the last registered first; outcomes are listed first registered first.
            answers = caller(engine=engine)
            return _flatten(answers[::-1], "gridcore_collect_outcomes")
        except Exception as exc:
            raise self._failed("gridcore_collect_outcomes", exc) from exc

    def describe_plugins(self) -> list[tuple[str, str]]:
        """``(name, origin)`` for every plugin, for ``gridcore plugins``.

        Plugins that failed to load and plugins disabled on request are listed
        too, saying so.
        """
        origins: Mapping[str, str] = getattr(self.pm, "origins", {})
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None or name.endswith(STATE_SUFFIX):
                continue
            origin = origins.get(name, "registered directly")
            module = getattr(plugin, "__name__", type(plugin).__module__)
            out.append((name, f"{origin} ({module})"))
        for failure in getattr(self.pm, "failures", ()):
            out.append((failure.name, f"FAILED to load ({failure.origin}): {failure.error}"))
        for name in sorted(getattr(self.pm, "disabled", ())):
            out.append((name, "disabled"))
        return sorted(out)

class _Subset:
    """Looks like ``pm.hook``: every hook, without some plugins (pluggy's ``subset_hook_caller``)."""

    def __init__(self, pm: pluggy.PluginManager, skip: tuple[object, ...]) -> None:
        self._pm = pm
        self._skip = skip

    def __getattr__(self, name: str) -> Any:
        caller = self._pm.subset_hook_caller(name, remove_plugins=list(self._skip))
        setattr(self, name, caller)
        return caller


class _Without(Hooks):
    """``Hooks`` whose calls skip some plugins (see ``Hooks.without``)."""

    def __init__(self, pm: pluggy.PluginManager, skip: tuple[object, ...], whole: Hooks) -> None:
        super().__init__(pm)
        self._skip = skip
        self._hook = _Subset(pm, skip)
        self._whole = whole

    def on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        self._whole.ticking = None  # (the states it reaches change: the whole's hints are asked again)
        super().on_event(engine, event, replaying)

    def on_event_ignored(self, engine: Engine, event: Event, reasons: list[str]) -> None:
        self._whole.ticking = None
        super().on_event_ignored(engine, event, reasons)

    def on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        self._whole.ticking = None
        return super().on_tick(engine, now)

    def restore_state(self, engine: Engine, plugin: object, document: dict[str, Any]) -> None:
        self._whole.ticking = None
        super().restore_state(engine, plugin, document)

    def on_ruleset_loaded(self, engine: Engine, ruleset: Ruleset, effective: datetime) -> None:
        self._whole.ticking = None
        super().on_ruleset_loaded(engine, ruleset, effective)

    def _plan(self, hook: str) -> list[_Call] | None:
        return None  # the subset's callers decide who is skipped

    def _skipped(self) -> tuple[object, ...]:
        return self._skip

    @property
    def _calls(self) -> Any:
        return self._hook


def _flatten(answers: list[Any], hook: str) -> list[Any]:
    out: list[Any] = []
    for answer in answers:
        if answer is None:
            continue
        if not isinstance(answer, (list, tuple)):
            raise PluginError(f"{hook} must return a list, got {type(answer).__name__}")
        out.extend(answer)
    return out


__all__ = [
    "CORE_PLUGINS",
    "ENTRY_POINT_GROUP",
    "PLUGINS_ENV",
    "STATE_SUFFIX",
    "EventKinds",
    "Hooks",
    "PluginFailure",
    "PluginManager",
    "PluginWarning",
    "get_plugin_manager",
    "plugin_selection",
]
