"""How ``Hooks`` (``gridcore.plugin_host``) calls hooks: each per-event hook routed to the plugins that want
the event's kind, and what a failure inside a hook comes out as.

``HookRouting`` is the part of ``Hooks`` that holds the plugin manager and the
ways of calling its hooks worked out so far: for a per-event hook
(``gridcore_validate_event``, ``gridcore_on_event``, ...), once per class of
event, the implementations whose plugin wants such events (``EventKinds``, a
plugin's answer to ``gridcore_event_kinds``), called directly in pluggy's order
with the arguments each accepts (``_plan``, ``_route``), or through pluggy where
that cannot be done.  An exception a plugin raises inside a hook comes out as a
``PluginError`` naming the plugin and the hook (``_failed``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

import pluggy
from attrs import field

from .classes import frozen
from .errors import GridcoreError, PluginError
from .plugin_loading import STATE_SUFFIX, _shown

if TYPE_CHECKING:
    from .events import Event


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


class Ticking:
    """What the plugins that tick said of when something of theirs can fall due (``gridcore_next_due``).

    In the order of ``gridcore_on_tick``'s plan: each plugin, its hint (how
    to call its ``gridcore_next_due``; None: it has none, and is called
    before every event), its last answer and whether that may be stale (its
    state changed since: an event reached it, it ticked).  ``calm``: every
    plugin that ticks has a hint and none is stale, so a tick before
    ``until`` (the earliest answer; None: no answer names a time) finds
    nothing due and need call no plugin.
    """

    __slots__ = ("calm", "due", "generation", "hints", "plugins", "reached", "stale", "unhinted", "until")

    def __init__(self, generation: int, plugins: list[object], hints: list[_Call | None]) -> None:
        self.generation = generation
        self.plugins = plugins
        self.hints = hints
        self.due: list[datetime | None] = [None] * len(hints)
        self.stale = [True] * len(hints)
        #: by class of event: where the plugins whose hint such an event may change are (``_reached``)
        self.reached: dict[type, tuple[int, ...]] = {}
        self.unhinted = any(hint is None for hint in hints)
        self.calm = False
        self.until: datetime | None = None

    def touch(self, reached: tuple[int, ...]) -> None:
        """The states of the plugins at ``reached`` changed: their hints are asked again."""
        stale = self.stale
        for at in reached:
            stale[at] = True
        self.calm = False

    def settle(self) -> None:
        """After a tick: calm if every plugin that ticks has a hint, and none is stale."""
        if self.unhinted or True in self.stale:
            self.calm = False
            return
        times = [due for due in self.due if due is not None]
        self.until = min(times) if times else None
        self.calm = True


class HookRouting:
    """The plugin manager ``Hooks`` calls, and how it calls each hook (``Hooks`` derives from it)."""

    #: Whether ``gridcore_on_tick`` is skipped for a plugin while its ``gridcore_next_due`` says nothing
    #: can fall due (False: every plugin asked before every event, as one without the hook is; what the
    #: hint must not change, which the tests compare)
    heed_next_due = True

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._plans: dict[str, tuple[int, list[_Call] | None]] = {}
        #: per per-event hook: the generation they were made for, and how to call it for each class of event
        self._routes: dict[str, tuple[int, dict[type, list[_Call] | Any]]] = {}
        #: the generation, and each plugin's ``gridcore_event_kinds`` answer (by ``id`` of the plugin)
        self._declared: tuple[int, dict[int, EventKinds]] | None = None
        #: what the plugins that tick said of when something of theirs can fall due (``gridcore_next_due``); read by
        #: the engine before every event it records (``Recording._record_sorted``), set only by these classes
        self.ticking: Ticking | None = None
        #: the generation, and the classes of event no plugin judges in it (no implementation of
        #: ``gridcore_validate_event`` wants them: most events, patrols), as ``Hooks.validate_event`` found them;
        #: the engine leaves that call out for them (``Engine._refusals``)
        self.unjudged: tuple[int, set[type]] = (-1, set())

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
        if self.ticking is not None and self.ticking.generation != generation:
            self.ticking = None

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

    def _new_ticking(self, generation: int, plan: list[_Call]) -> Ticking:
        """The ``Ticking`` of ``gridcore_on_tick``'s plan: each implementation's ``gridcore_next_due``, if any.

        A plugin's hint is the implementation of ``gridcore_next_due`` by the
        object that implements its ``gridcore_on_tick`` (called directly, as
        the plan is); without one (or with ``heed_next_due`` off) it is
        called before every event.
        """
        plugins = [impl.plugin for impl in reversed(self.pm.hook.gridcore_on_tick.get_hookimpls())]
        hints: list[_Call | None] = [None] * len(plan)
        caller = getattr(self.pm.hook, "gridcore_next_due", None)
        if self.heed_next_due and caller is not None and caller.spec is not None and len(plugins) == len(plan):
            names = caller.spec.argnames
            by_plugin = {id(impl.plugin): (impl.function, _picks(names, impl.argnames))
                         for impl in caller.get_hookimpls()
                         if not (impl.hookwrapper or getattr(impl, "wrapper", False))}
            hints = [by_plugin.get(id(plugin)) for plugin in plugins]
        return Ticking(generation, plugins, hints)

    def _reached(self, ticking: Ticking, cls: type) -> tuple[int, ...]:
        """Where in ``ticking`` the plugins are whose hint an event of class ``cls`` may change: those with a
        ``gridcore_next_due`` that implement ``gridcore_on_event`` or ``gridcore_on_event_ignored`` for it."""
        generation = getattr(self.pm, "generation", None)
        if ticking.generation != generation or generation is None:
            self.ticking = None  # (made before a registration: made again at the next tick)
            return ()
        declared = self._declarations(generation)
        at = {id(plugin): n for n, plugin in enumerate(ticking.plugins) if ticking.hints[n] is not None}
        reached: set[int] = set()
        for hook in ("gridcore_on_event", "gridcore_on_event_ignored"):
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                n = at.get(id(impl.plugin))
                kinds = declared.get(id(impl.plugin))
                if n is not None and (kinds is None or kinds.wants(hook, cls)):
                    reached.add(n)
        ticking.reached[cls] = found = tuple(sorted(reached))
        return found

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

    def _only(self, hook: str, plugin: object) -> Any:
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        return self.pm.subset_hook_caller(hook, remove_plugins=others)

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
