"""Calling hooks through one typed facade (``Hooks``).

The plugin manager it calls is built in ``gridcore.plugin_loading``, whose
names this module hands on (``get_plugin_manager``, ``PluginManager``, ...).

The core calls every hook through ``Hooks``, always with keyword arguments and
typed results; per-event hooks go straight to the implementations that want
the event's kind (``EventKinds``), worked out once per class of event.  An
exception raised inside a hook reaches the caller as a ``PluginError`` naming
the plugin and the hook (errors meant for people, ``GridcoreError`` and its
subclasses, pass through unchanged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

import pluggy
from attrs import field, frozen

from .errors import GridcoreError, PluginError, RosterError, StoreError
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
    from .reports import Report
    from .rules import Diagnostic, Ruleset, Section
    from .store import Store


def _chosen(value: Iterable[str | type] | None) -> frozenset[str | type] | None:
    """``EventKinds``' converter: None (every event), or the kinds and classes named."""
    if value is None:
        return None
    if isinstance(value, (str, type)):
        raise TypeError("EventKinds takes a collection of event kinds and classes (or None), "
                        f"not the single {value!r}")
    chosen = frozenset(value)
    for item in chosen:
        if not isinstance(item, (str, type)):
            raise TypeError(f"EventKinds takes event kinds (str) and event classes, not {item!r}")
    return chosen


#: The per-event hooks ``EventKinds.on_event`` restricts.
_AS_ON_EVENT = frozenset(("gridcore_on_event", "gridcore_validate_stored", "gridcore_on_event_ignored"))


@frozen
class EventKinds:
    """Which events a plugin's per-event hooks need to see (its answer to ``gridcore_event_kinds``).

    ``validate_event`` and ``on_event`` each restrict the plugin's
    implementation of that hook (``gridcore_validate_event``,
    ``gridcore_on_event``): ``None`` (the default) means every event; a
    collection names event kinds (``"patrol_logged"``: events of exactly that
    ``kind``) and event classes (events of that class or a subclass of it).
    ``on_event`` restricts ``gridcore_validate_stored`` and
    ``gridcore_on_event_ignored`` too (a plugin judges again only what it applies).
    """

    validate_event: frozenset[str | type] | None = field(default=None, converter=_chosen)
    on_event: frozenset[str | type] | None = field(default=None, converter=_chosen)

    def wants(self, hook: str, cls: type) -> bool:
        """True if the plugin's implementation of ``hook`` must see events of class ``cls``."""
        if hook == "gridcore_validate_event":
            chosen = self.validate_event
        elif hook in _AS_ON_EVENT:
            chosen = self.on_event
        else:
            return True
        if chosen is None:
            return True
        kind = getattr(cls, "kind", None)
        return any(item == kind if isinstance(item, str) else issubclass(cls, item) for item in chosen)


class Hooks:
    """The only way the core calls hooks: keyword arguments, typed results.

    An exception a plugin raises inside a hook comes out as a ``PluginError``
    naming the plugin and the hook (``GridcoreError``s pass through: they are
    meant for the person using the engine).
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._plans: dict[str, tuple[int, list[_Call] | None]] = {}
        #: per per-event hook: the generation they were made for, and how to call it for each class of event
        self._routes: dict[str, tuple[int, dict[type, list[_Call] | Any]]] = {}
        #: the generation, and each plugin's ``gridcore_event_kinds`` answer (by ``id`` of the plugin)
        self._declared: tuple[int, dict[int, EventKinds]] | None = None

    def forget_stale(self) -> None:
        """Drop the ways of calling hooks worked out before the last registration or unregistration.

        They hold the implementations' bound methods, so the plugins' state
        objects a rebuild replaced (``Engine.refresh`` after another writer's
        late event) stayed alive until an event of the same hook came.
        """
        generation = getattr(self.pm, "generation", None)
        self._plans = {hook: kept for hook, kept in self._plans.items() if kept[0] == generation}
        self._routes = {hook: kept for hook, kept in self._routes.items() if kept[0] == generation}
        if self._declared is not None and self._declared[0] != generation:
            self._declared = None

    def _plan(self, hook: str) -> list[_Call] | None:
        """The implementations of a per-event hook in pluggy's calling order, or None to call through pluggy.

        The engine calls ``gridcore_validate_event``, ``gridcore_on_event`` and
        ``gridcore_on_tick`` for every event: calling the implementations
        directly, in the order pluggy would (last registered first, ``tryfirst``
        and ``trylast`` honoured) with the arguments each accepts, saves most of
        pluggy's cost per call.  The plan is rebuilt whenever a plugin is
        registered or unregistered; hook wrappers, keyword-only arguments, call
        monitoring or a manager that does not count its changes go through
        pluggy itself.
        """
        generation = getattr(self.pm, "generation", None)
        if generation is None or getattr(self.pm, "monitored", True):
            return None
        found = self._plans.get(hook)
        if found is not None and found[0] == generation:
            return found[1]
        plan = self._direct(hook, ())
        self._plans[hook] = (generation, plan)
        return plan

    def _direct(self, hook: str, leave_out: tuple[object, ...]) -> list[_Call] | None:
        """The direct calls of ``hook``'s implementations but those of ``leave_out``, or None (through pluggy)."""
        if getattr(self.pm, "monitored", True):
            return None
        caller = getattr(self.pm.hook, hook)
        spec = caller.spec
        impls = caller.get_hookimpls()
        # (getattr: pluggy's HookImpl attributes differ between the versions gridcore accepts, >=1.5)
        if spec is None or any(i.hookwrapper or getattr(i, "wrapper", False) or getattr(i, "kwargnames", ())
                               for i in impls):
            return None
        names = spec.argnames
        return [(impl.function, _picks(names, impl.argnames))
                for impl in reversed(impls) if not any(impl.plugin is p for p in leave_out)]

    def _route(self, hook: str, cls: type) -> list[_Call] | Any:
        """How to call ``hook`` for an event of class ``cls``: a plan of direct calls, or a pluggy caller.

        Either way only the implementations whose plugin wants such events
        (``gridcore_event_kinds``) are called, in pluggy's order.  Worked out
        once per class of event, again after any registration.
        """
        kept = self._routes.get(hook)
        if kept is not None and kept[0] == getattr(self.pm, "generation", None):
            route = kept[1].get(cls)
            if route is not None:
                return route
        return self._new_route(hook, cls)

    def _new_route(self, hook: str, cls: type) -> list[_Call] | Any:
        generation = getattr(self.pm, "generation", None)
        if generation is None:  # a manager that does not count its changes: every plugin, through pluggy
            return getattr(self._calls, hook)
        kept = self._routes.get(hook)
        if kept is None or kept[0] != generation:
            kept = self._routes[hook] = (generation, {})
        declared = self._declarations(generation)
        impls = getattr(self.pm.hook, hook).get_hookimpls()
        unwanted = tuple(impl.plugin for impl in impls
                         if id(impl.plugin) in declared and not declared[id(impl.plugin)].wants(hook, cls))
        route = self._direct(hook, self._skipped() + unwanted)
        if route is None:
            route = self._pluggy(hook, unwanted)
        kept[1][cls] = route
        return route

    def _skipped(self) -> tuple[object, ...]:
        """The plugins this facade never calls (``without``)."""
        return ()

    def _pluggy(self, hook: str, unwanted: tuple[object, ...]) -> Any:
        """pluggy's caller of ``hook`` without the implementations of ``unwanted`` (or of ``without``)."""
        if not unwanted:
            return getattr(self._calls, hook)
        return self.pm.subset_hook_caller(hook, remove_plugins=[*self._skipped(), *unwanted])

    def _declarations(self, generation: int) -> dict[int, EventKinds]:
        """Each plugin's answer to ``gridcore_event_kinds`` (by ``id`` of the plugin), asked once per generation."""
        if self._declared is not None and self._declared[0] == generation:
            return self._declared[1]
        declared: dict[int, EventKinds] = {}
        for impl in self.pm.hook.gridcore_event_kinds.get_hookimpls():
            try:
                answers = self._only("gridcore_event_kinds", impl.plugin)()
            except Exception as exc:
                raise self._failed("gridcore_event_kinds", exc) from exc
            answer = answers[0] if answers else None
            if answer is None:
                continue
            if not isinstance(answer, EventKinds):
                raise PluginError(f"plugin {_shown(impl.plugin_name)!r}: gridcore_event_kinds must return "
                                  f"an EventKinds or None, got {type(answer).__name__}")
            declared[id(impl.plugin)] = answer
        self._declared = (generation, declared)
        return declared

    @property
    def _calls(self) -> Any:
        """Where hooks are called: every plugin (``pm.hook``), or a subset (``without``)."""
        return self.pm.hook

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

    def on_ruleset_loaded(self, engine: Engine, ruleset: Ruleset, effective: datetime) -> None:
        try:
            self._calls.gridcore_on_ruleset_loaded(engine=engine, ruleset=ruleset, effective=effective)
        except Exception as exc:
            raise self._failed("gridcore_on_ruleset_loaded", exc) from exc

    def validate_event(self, engine: Engine, event: Event) -> list[str]:
        reasons: list[str] = []
        try:
            # (``_route`` written out: asked before every event)
            kept = self._routes.get("gridcore_validate_event")
            route = (kept[1].get(type(event)) if kept is not None and kept[0] == getattr(self.pm, "generation", None)
                     else None)
            if route is None:
                route = self._new_route("gridcore_validate_event", type(event))
            if isinstance(route, list):
                if not route:
                    return reasons  # (no plugin judges such events: most of them, asked for every one)
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
        try:
            # (``_route`` and ``_call_all`` written out: called for every event, and the answers are not kept)
            kept = self._routes.get("gridcore_on_event")
            route = (kept[1].get(type(event)) if kept is not None and kept[0] == getattr(self.pm, "generation", None)
                     else None)
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
        try:
            route = self._route("gridcore_on_event_ignored", type(event))
            if isinstance(route, list):
                _call_all(route, (engine, event, reasons))
            else:
                route(engine=engine, event=event, reasons=reasons)
        except Exception as exc:
            raise self._failed("gridcore_on_event_ignored", exc, event) from exc

    def on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        try:
            # (``_plan`` written out when its plan is kept: asked before every event)
            kept = self._plans.get("gridcore_on_tick")
            plan = (kept[1] if kept is not None and kept[0] == getattr(self.pm, "generation", None)
                    else self._plan("gridcore_on_tick"))
            if plan is None:
                return _flatten(self._calls.gridcore_on_tick(engine=engine, now=now), "gridcore_on_tick")
            # (``_call_all`` and ``_flatten`` written out: called before every event, which most often
            # finds nothing due)
            args = (engine, now)
            out: list[Event] = []
            wrong = None  # (the first answer that is no list: refused once every plugin was asked)
            for function, picks in plan:
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
            return out
        except Exception as exc:
            raise self._failed("gridcore_on_tick", exc) from exc

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
        if not caller.get_hookimpls():
            raise PluginError(f"plugin {_shown(self.pm.get_name(plugin) or '?')!r} implements "
                              "gridcore_save_state but not gridcore_restore_state")
        try:
            caller(engine=engine, document=document)
        except Exception as exc:
            raise self._failed("gridcore_restore_state", exc) from exc

    def without(self, skip: Iterable[object]) -> Hooks:
        """The same hooks, calling every plugin but those in ``skip`` (a partial replay)."""
        return _Without(self.pm, tuple(skip))

    def _only(self, hook: str, plugin: object) -> Any:
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        return self.pm.subset_hook_caller(hook, remove_plugins=others)

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

    def collect_outcomes(self, engine: Engine) -> list[Outcome]:
        try:
            # pluggy calls the last registered first; outcomes are listed first registered first.
            answers = self._calls.gridcore_collect_outcomes(engine=engine)
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

    def _failed(self, hook: str, exc: Exception, event: Event | None = None) -> Exception:
        """What to raise for ``exc`` escaping ``hook``: people's errors as they are, bugs named (with the
        event it failed on, if any), in English and Chinese."""
        if isinstance(exc, GridcoreError):
            return exc
        culprit = _culprit(self.pm, hook, exc.__traceback__)
        who, who_zh = (f"plugin {culprit!r}", f"插件 {culprit!r} ") if culprit else ("a plugin", "插件")
        on, on_zh = ((f" on event {event.id} ({type(event).kind})", f"处理事件 {event.id} 时") if event is not None
                     else ("", ""))
        error = PluginError(f"{who} failed in {hook}{on}: {type(exc).__name__}: {exc} ({who_zh}{on_zh}出错)")
        error.plugin = culprit
        if event is not None:
            error.event = event.id
        return error


#: One implementation in a call plan: the function, and the positions in the spec's
#: arguments of those it accepts (None: all of them, in the spec's order; an int: that one only).
_Call = tuple[Callable[..., Any], "tuple[int, ...] | int | None"]


def _picks(names: tuple[str, ...], accepted: tuple[str, ...]) -> tuple[int, ...] | int | None:
    """Where the arguments an implementation accepts are among the spec's (see ``_Call``)."""
    if accepted == names:
        return None
    picks = tuple(names.index(a) for a in accepted)
    return picks[0] if len(picks) == 1 else picks


def _call_all(plan: list[_Call], args: tuple[Any, ...]) -> list[Any]:
    """Call each implementation of a plan with the arguments it accepts; the answers that are not None."""
    answers = []
    for function, picks in plan:
        if picks is None:
            answer = function(*args)
        elif picks.__class__ is int:  # (one argument, as ``gridcore_on_event(self, event)``: no list built)
            answer = function(args[picks])
        else:
            answer = function(*[args[i] for i in picks])  # type: ignore[union-attr]
        if answer is not None:
            answers.append(answer)
    return answers


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

    def __init__(self, pm: pluggy.PluginManager, skip: tuple[object, ...]) -> None:
        super().__init__(pm)
        self._skip = skip
        self._hook = _Subset(pm, skip)

    def _plan(self, hook: str) -> list[_Call] | None:
        return None  # the subset's callers decide who is skipped

    def _skipped(self) -> tuple[object, ...]:
        return self._skip

    @property
    def _calls(self) -> Any:
        return self._hook


def _culprit(pm: pluggy.PluginManager, hook: str, tb: TracebackType | None) -> str | None:
    """The plugin whose implementation of ``hook`` the traceback passes through, if any."""
    caller = getattr(pm.hook, hook, None)
    if caller is None:
        return None
    codes: dict[object, str] = {}
    for impl in caller.get_hookimpls():
        function = getattr(impl.function, "__func__", impl.function)
        code = getattr(function, "__code__", None)
        if code is not None:
            codes[code] = impl.plugin_name
    while tb is not None:
        name = codes.get(tb.tb_frame.f_code)
        if name is not None:
            return _owner(pm, name)
        tb = tb.tb_next
    return None


def _owner(pm: pluggy.PluginManager, name: str) -> str:
    """The name people know a plugin by (``gridcore plugins``, ``-p no:NAME``): for a per-engine state,
    the plugin whose package defines its class, where one registered does (else the state's name)."""
    if not name.endswith(STATE_SUFFIX):
        return name
    state = pm.get_plugin(name)
    package = type(state).__module__.partition(".")[0]
    for other, plugin in pm.list_name_plugin():
        if plugin is None or other.endswith(STATE_SUFFIX):
            continue
        module = plugin.__name__ if isinstance(plugin, ModuleType) else type(plugin).__module__
        if module.partition(".")[0] == package and package not in ("builtins", "__main__"):
            return other
    return _shown(name)


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
