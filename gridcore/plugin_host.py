"""Building the plugin manager and calling hooks through one typed facade.

A process builds its plugin manager once (``get_plugin_manager``): the command
line does it once per invocation, an embedder once at start-up, and hands it to
every ``Engine.open``.  Loading is where plugins go wrong, so it is careful:

* a plugin whose import fails is reported by name and skipped (``strict=True``
  refuses it instead), so ``gridcore plugins`` and every other plugin still work;
* a plugin that breaks the hook contract (an unknown ``gridcore_*`` hook, an
  argument no spec has) is a ``PluginError`` naming the plugin and the hook;
* an exception raised inside a hook reaches the caller as a ``PluginError``
  naming the plugin and the hook (errors meant for people, ``GridcoreError``
  and its subclasses, pass through unchanged).

Each engine works on its own copy of the process's manager
(``PluginManager.for_engine``): the same plugin objects, but the per-engine
states plugins attach stay with that engine, so two engines never see each
other's state.
"""

from __future__ import annotations

import difflib
import importlib
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

import pluggy
from attrs import field, frozen

from . import hookspecs
from .errors import GridcoreError, PluginError, RosterError, StoreError

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

ENTRY_POINT_GROUP = "gridcore"

#: The environment variable that pins the set of entry-point plugins (read by the
#: command line, ``plugin_selection``): ``GRIDCORE_PLUGINS=points,escalation``.
PLUGINS_ENV = "GRIDCORE_PLUGINS"

# The core's own defaults are plugins too, registered before entry points so a
# third party can still answer first (pluggy calls later registrations first).
CORE_PLUGINS = ("gridcore.store.tinydb_store", "gridcore.store.sqlite_store", "gridcore.store.postgres_store")

#: Suffix of the pluggy names of per-engine states (``Engine.attach``).
STATE_SUFFIX = "#state"


class PluginWarning(UserWarning):
    """A plugin could not be loaded and was skipped (the message names it and why)."""


@frozen
class PluginFailure:
    """A plugin that could not be loaded: its entry-point name, where it comes from, what went wrong."""

    name: str
    origin: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.name!r} ({self.origin}) could not be loaded and is skipped: {self.error}"

    @property
    def message_zh(self) -> str:
        """The same, for staff reading Chinese."""
        return f"插件 {self.name!r}（{self.origin}）无法加载，已跳过：{self.error}"


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


class PluginManager(pluggy.PluginManager):
    """pluggy's plugin manager for the ``gridcore`` hooks, knowing what it loaded and what failed.

    Build it with ``get_plugin_manager``.  ``failures`` lists plugins that could
    not be loaded, ``disabled`` the names blocked on request, ``origins`` where
    each loaded plugin came from (``entry point of gridcore 0.1.0``).
    """

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT)
        #: bumped whenever the set of hook implementations may change, so ``Hooks`` knows
        #: when the call plans it keeps for per-event hooks are stale
        self.generation = 0
        #: True while pluggy's call monitoring (tracing) is on: every call then goes through pluggy
        self.monitored = False
        self.add_hookspecs(hookspecs)
        self.failures: list[PluginFailure] = []
        self.disabled: set[str] = set()
        self.origins: dict[str, str] = {}

    def get_canonical_name(self, plugin: object) -> str:
        """A readable name for a plugin registered without one: its module, or its class and a number.

        (pluggy's default names an object by its ``id()``, which no one can read.)
        """
        if isinstance(plugin, ModuleType):
            return plugin.__name__
        base = getattr(plugin, "__name__", None) or type(plugin).__name__
        name, n = str(base), 1
        while self.has_plugin(name):
            n += 1
            name = f"{base}-{n}"
        return name

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin``; a plugin that breaks the hook contract is a ``PluginError`` naming it."""
        self.generation += 1
        try:
            return super().register(plugin, name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(_validation_message(exc)) from None
        except ValueError as exc:  # already registered (under this or another name)
            raise PluginError(f"plugin {name or self.get_canonical_name(plugin)!r} cannot be registered: "
                              f"{str(exc).splitlines()[0]}") from None

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any | None:
        """Unregister a plugin (by object or name) and every hook implementation it had."""
        self.generation += 1
        return super().unregister(plugin, name)

    def add_hookspecs(self, module_or_class: ModuleType | type) -> None:
        """Add hook specifications (pluggy's; noted so call plans are rebuilt)."""
        self.generation += 1
        super().add_hookspecs(module_or_class)

    def add_hookcall_monitoring(self, before: Any, after: Any) -> Callable[[], None]:
        """pluggy's call monitoring; while it is on, ``Hooks`` calls every hook through pluggy."""
        undo = super().add_hookcall_monitoring(before, after)
        self.monitored = True
        self.generation += 1

        def undo_all() -> None:
            undo()
            self.monitored = False
            self.generation += 1

        return undo_all

    def check_pending(self) -> None:
        """Refuse ``gridcore_*`` functions that match no hook, naming the plugin and a close hook name."""
        known = [name for name in dir(self.hook) if name.startswith(hookspecs.PROJECT + "_")
                 and getattr(self.hook, name).has_spec()]
        for name in dir(self.hook):
            caller = getattr(self.hook, name)
            if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if impl.optionalhook:
                    continue
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise PluginError(f"plugin {_shown(impl.plugin_name)!r} implements {name!r}, "
                                  f"which is not a gridcore hook{hint}")

    def for_engine(self) -> PluginManager:
        """A manager for one engine: the same plugins (nothing is loaded again), its own states.

        States that plugins attach to the engine (``Engine.attach``) are
        registered here, so two engines built from one process manager never
        share them.
        """
        copy = PluginManager()
        copy.failures = self.failures
        copy.disabled = self.disabled
        copy.origins = self.origins
        for name in self.disabled:
            copy.set_blocked(name)
        # Register in the same order, so hooks are called in the same order.
        for name, plugin in self.list_name_plugin():
            if plugin is not None and not name.endswith(STATE_SUFFIX):
                super(PluginManager, copy).register(plugin, name)
        copy.generation += 1
        return copy


def plugin_selection(environ: Mapping[str, str]) -> frozenset[str] | None:
    """The entry-point plugins ``GRIDCORE_PLUGINS`` pins (comma-separated names), or None if unset."""
    raw = environ.get(PLUGINS_ENV)
    if raw is None:
        return None
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def _no_hook(target: str) -> str:
    """Why an entry point's plugin that implements no hook is skipped, and how to name its hooks."""
    module = target.partition(":")[0].strip()
    return (f"it implements no gridcore hook: {target} holds no @hookimpl function at its top level (hooks that "
            f"are methods of a class count once an object of it is registered: write plugin = YourPlugin() in "
            f"{module} and name it in the entry point, {module}:plugin) "
            f"(插件没有实现任何 gridcore 钩子：钩子写在类中时，须创建其对象并在入口点中写 {module}:plugin)")


def get_plugin_manager(
    disabled: Iterable[str] = (),
    *,
    only: Iterable[str] | None = None,
    strict: bool = False,
    extra: Iterable[object] = (),
    load_entry_points: bool = True,
) -> PluginManager:
    """A fresh plugin manager: specs added, core and installed plugins loaded.

    * ``disabled`` names entry points (``points``) or core plugins to block.
    * ``only`` pins the entry-point plugins: those named are loaded, no other
      is even imported (``None``: every installed one).
    * ``strict``: a plugin whose import fails raises ``PluginError`` naming it;
      by default it is skipped, listed in ``failures`` and warned about
      (``PluginWarning``).
    * ``extra`` registers objects or modules directly (tests, embedders).

    Naming a plugin in ``disabled`` or ``only`` that is not installed is a
    ``PluginError`` listing the installed ones.
    """
    pm = PluginManager()
    blocked = set(disabled)
    pinned = None if only is None else set(only)
    pm.disabled = blocked
    for name in blocked:
        pm.set_blocked(name)
    for modname in CORE_PLUGINS:
        try:
            module = importlib.import_module(modname)
        except ModuleNotFoundError as exc:
            if exc.name == modname:
                continue
            raise
        if not pm.is_blocked(modname):
            pm.register(module, name=modname)
            pm.origins[modname] = "gridcore core"
    if load_entry_points:
        found = list(entry_points(group=ENTRY_POINT_GROUP))
        known = set(CORE_PLUGINS) | {ep.name for ep in found}
        unknown = sorted((blocked | (pinned or set())) - known)
        if unknown:
            what = "disable" if set(unknown) & blocked else "choose"
            raise PluginError(
                f"cannot {what} {', '.join(map(repr, unknown))}: no such plugin "
                f"(installed: {', '.join(sorted(known))})"
            )
        for ep in found:
            if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
                continue
            if pinned is not None and ep.name not in pinned:
                pm.disabled.add(ep.name)
                continue
            dist = ep.dist
            origin = f"entry point of {dist.name} {dist.version}" if dist is not None else "entry point"
            try:
                plugin = ep.load()
            except Exception as exc:
                failure = PluginFailure(ep.name, f"{origin}, {ep.value}", f"{type(exc).__name__}: {exc}")
                if strict:
                    raise PluginError(f"plugin {ep.name!r} ({failure.origin}) could not be loaded: "
                                      f"{failure.error}") from exc
                pm.failures.append(failure)
                warnings.warn(str(failure), PluginWarning, stacklevel=2)
                continue
            pm.register(plugin, name=ep.name)
            if not pm.get_hookcallers(plugin):
                # (the guide's classes copied into a module as they stand: nothing registered, nothing runs)
                pm.unregister(plugin)
                failure = PluginFailure(ep.name, f"{origin}, {ep.value}", _no_hook(ep.value))
                if strict:
                    raise PluginError(f"plugin {ep.name!r} ({failure.origin}) could not be loaded: "
                                      f"{failure.error}")
                pm.failures.append(failure)
                warnings.warn(str(failure), PluginWarning, stacklevel=2)
                continue
            pm.origins[ep.name] = origin
    for plugin in extra:
        registered = pm.register(plugin)
        if registered is not None:
            pm.origins.setdefault(registered, "registered directly")
    pm.check_pending()
    return pm


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
                answers = _call_all(route, (engine, event))
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


def _shown(name: str) -> str:
    """A plugin's name as people know it (a per-engine state under its plugin's name)."""
    return name.removesuffix(STATE_SUFFIX)


def _validation_message(exc: pluggy.PluginValidationError) -> str:
    """pluggy's validation message, in one line, naming the plugin."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    head = lines[0] if lines else "invalid plugin"
    rest = [line for line in lines[1:] if not line.startswith("hookimpl definition")]
    text = "; ".join([head, *rest])
    return f"{text[0].lower()}{text[1:]}" if text.startswith("Plugin ") else text


def _flatten(answers: list[Any], hook: str) -> list[Any]:
    out: list[Any] = []
    for answer in answers:
        if answer is None:
            continue
        if not isinstance(answer, (list, tuple)):
            raise PluginError(f"{hook} must return a list, got {type(answer).__name__}")
        out.extend(answer)
    return out
