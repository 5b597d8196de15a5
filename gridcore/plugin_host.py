"""Building plugin managers and calling hooks through one typed facade."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError, RosterError, StoreError

if TYPE_CHECKING:
    import click

    from .community import Community
    from .engine import Engine
    from .events import Event
    from .explain import Explanation, Outcome
    from .metrics import Metric
    from .reports import Report
    from .rules import Diagnostic, Ruleset, Section
    from .store import Store

ENTRY_POINT_GROUP = "gridcore"

# The core's own defaults are plugins too, registered before entry points so a
# third party can still answer first (pluggy calls later registrations first).
CORE_PLUGINS = ("gridcore.store.tinydb_store", "gridcore.store.sqlite_store", "gridcore.store.postgres_store")


def get_plugin_manager(
    disabled: Iterable[str] = (),
    *,
    extra: Iterable[object] = (),
    load_entry_points: bool = True,
) -> pluggy.PluginManager:
    """A fresh plugin manager: specs added, core and installed plugins loaded.

    ``disabled`` names entry points (``points``) or plugin names to block.
    ``extra`` registers objects or modules directly (tests, embedders).
    """
    import importlib

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    disabled = list(disabled)
    for name in disabled:
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
    if load_entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra:
        pm.register(plugin)
    pm.check_pending()
    if disabled and load_entry_points:
        known = set(CORE_PLUGINS) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
        unknown = sorted(set(disabled) - known)
        if unknown:
            raise PluginError(
                f"cannot disable {', '.join(map(repr, unknown))}: no such plugin "
                f"(installed: {', '.join(sorted(known))})"
            )
    return pm


class Hooks:
    """The only way the core calls hooks: keyword arguments, typed results."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def register_event_types(self) -> list[type[Event]]:
        return _flatten(self.pm.hook.gridcore_register_event_types())

    def register_sections(self) -> list[Section[Any]]:
        return _flatten(self.pm.hook.gridcore_register_sections())

    def register_commands(self) -> list[click.Command]:
        return _flatten(self.pm.hook.gridcore_register_commands())

    def register_reports(self) -> list[Report]:
        return _flatten(self.pm.hook.gridcore_register_reports())

    def register_metrics(self) -> list[Metric]:
        return _flatten(self.pm.hook.gridcore_register_metrics())

    def storage_backend(self, url: str) -> Store:
        store = self.pm.hook.gridcore_storage_backend(url=url)
        if store is None:
            raise StoreError(f"no storage backend knows the store URL {url!r}")
        return store  # type: ignore[no-any-return]

    def load_community(self, path: Path) -> Community:
        community = self.pm.hook.gridcore_load_community(path=path)
        if community is None:
            raise RosterError(
                f"{path}: no installed roster format reads this (is gridcore_app installed? "
                "a community folder holds community.yaml)"
            )
        return community  # type: ignore[no-any-return]

    def on_open(self, engine: Engine) -> None:
        self.pm.hook.gridcore_on_open(engine=engine)

    def check_ruleset(self, community: Community, ruleset: Ruleset) -> list[Diagnostic]:
        problems: list[Diagnostic] = []
        for answer in self.pm.hook.gridcore_check_ruleset(community=community, ruleset=ruleset):
            if answer:
                problems.extend(answer)
        return problems

    def on_ruleset_loaded(self, engine: Engine, ruleset: Ruleset, effective: datetime) -> None:
        self.pm.hook.gridcore_on_ruleset_loaded(engine=engine, ruleset=ruleset, effective=effective)

    def validate_event(self, engine: Engine, event: Event) -> list[str]:
        reasons: list[str] = []
        for answer in self.pm.hook.gridcore_validate_event(engine=engine, event=event):
            if answer:
                if isinstance(answer, str):
                    raise PluginError("gridcore_validate_event must return a list of reasons, not a string")
                reasons.extend(answer)
        return reasons

    def on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        self.pm.hook.gridcore_on_event(engine=engine, event=event, replaying=replaying)

    def on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        return _flatten(self.pm.hook.gridcore_on_tick(engine=engine, now=now))

    def on_close(self, engine: Engine) -> None:
        self.pm.hook.gridcore_on_close(engine=engine)

    def explain(self, engine: Engine, decision: str) -> Explanation | None:
        return self.pm.hook.gridcore_explain(engine=engine, decision=decision)  # type: ignore[no-any-return]

    def collect_outcomes(self, engine: Engine) -> list[Outcome]:
        return _flatten(self.pm.hook.gridcore_collect_outcomes(engine=engine))

    def describe_plugins(self) -> list[tuple[str, str]]:
        """``(name, origin)`` for every registered plugin, for ``gridcore plugins``."""
        dists = {id(plugin): dist for plugin, dist in self.pm.list_plugin_distinfo()}
        out = []
        for name, plugin in self.pm.list_name_plugin():
            if plugin is None:
                continue
            dist = dists.get(id(plugin))
            if dist is not None:
                origin = f"entry point of {dist.project_name} {dist.version}"
            elif name in CORE_PLUGINS:
                origin = "gridcore core"
            else:
                origin = "registered directly"
            module = getattr(plugin, "__name__", type(plugin).__module__)
            out.append((name, f"{origin} ({module})"))
        return sorted(out)


def _flatten(answers: list[Any]) -> list[Any]:
    out: list[Any] = []
    for answer in answers:
        if answer is None:
            continue
        if not isinstance(answer, (list, tuple)):
            raise PluginError(f"a register hook must return a list, got {type(answer).__name__}")
        out.extend(answer)
    return out
