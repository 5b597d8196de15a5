"""Building the plugin manager: the core's plugins and the installed ones loaded, carefully.

A process builds its plugin manager once (``get_plugin_manager``): the command
line does it once per invocation, an embedder once at start-up, and hands it to
every ``Engine.open``.  Loading is where plugins go wrong, so it is careful:

* a plugin whose import fails is reported by name and skipped (``strict=True``
  refuses it instead), so ``gridcore plugins`` and every other plugin still work;
* a plugin that breaks the hook contract (an unknown ``gridcore_*`` hook, an
  argument no spec has) is a ``PluginError`` naming the plugin and the hook.

Each engine works on its own copy of the process's manager
(``PluginManager.for_engine``): the same plugin objects, but the per-engine
states plugins attach stay with that engine, so two engines never see each
other's state.  The core calls the hooks through ``gridcore.plugin_host.Hooks``,
which also hands on every name defined here.
"""

from __future__ import annotations

import difflib
import importlib
import warnings
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .classes import frozen
from .errors import PluginError

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
