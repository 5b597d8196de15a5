"""The engine's checkpoints restored: the newest that fits found, the core's state read from it, each plugin's
given when first used, and the plugins it holds no state of replayed up to it.

A part of ``Engine`` (``gridcore/engine.py``), kept in a module of its own beside
``checkpointing`` (which stores them and says their shape): it finds the newest
checkpoint that fits the rulesets, plugins and community in force and that no
late event stored since spoils (``_restore_checkpoint``), restores the core's
state from it (``_load_checkpoint``), gives each plugin its document when the
plugin is first used (``_wake``, ``_woken``), and replays the store up to it to
the plugins whose state it does not hold (``_replay_only``).  The contract is in
``docs/architecture.md`` ("Checkpoints and refresh: the contracts").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from .checkpointing import (
    CHECKPOINT_FORMAT,
    CHECKPOINTS,
    STATEFUL_HOOKS,
    _fit_key,
    _page_key,
    _part_key,
)
from .enginestate import EngineState
from .errors import GridcoreError, StoreConflict
from .events import SYSTEM_ACTOR, Event, ResidentMoved, ResidentRegistered, event_order
from .garbage import fewer_full_collections
from .parts import stored_documents

if TYPE_CHECKING:
    from .engine import Engine


class Restoring(EngineState):
    """The methods of ``Engine`` that restore its state from a checkpoint (``Engine.open``, a rebuild)."""

    def _orders_after(self, position: int) -> Iterator[tuple[int, datetime, str]]:
        """``(position, time, id)`` of the events stored after ``position`` (``Store.orders_after``; else read
        from the documents)."""
        orders_after = getattr(self.store, "orders_after", None)
        if orders_after is not None:
            return iter(orders_after(position))
        return ((at, *_doc_order(doc)) for at, doc in self.store.events_after(position))

    def _replayed_in_full(self, saved: Iterable[str]) -> list[object]:
        """Stateful plugins whose state is not in a checkpoint saving ``saved``: they replay the store."""
        kept = set(saved)
        found: dict[str, object] = {}
        for hook in STATEFUL_HOOKS:
            for impl in getattr(self.plugins.hook, hook).get_hookimpls():
                if impl.plugin_name not in kept:
                    found[impl.plugin_name] = impl.plugin
        return list(found.values())

    def _restore_checkpoint(self, before: tuple[datetime, str] | None = None) -> bool:
        """Restore the newest checkpoint that fits (taken before ``before``, if given).

        A checkpoint fits when it was taken under the same rulesets, plugins and
        community, and every event stored after it comes after it in canonical
        order (a late event stored since makes it unusable).  Expects the fresh
        state ``_reset`` leaves; on success ``_base`` is its position and the
        replay goes on from there.  False (and a fresh state) when none fits.
        """
        self._in_full = ()
        index, about, fits = self._checkpoint_index()
        if not index:
            self._why_not_restored = "no checkpoint is stored"
            return False
        fit = self._checkpoint_fit()
        fit_key = _fit_key(fit)
        top = self.store.position()
        passed: dict[str, int] = {}  # why each slot was passed over (``OpenReport.why_not``)
        for slot, _ in sorted(index.items(), key=lambda pair: -pair[1]):
            said = about.get(slot)
            # The index says what each slot was taken under: a slot that cannot fit is not read
            # (a checkpoint is tens of megabytes in a large store).  What it says is only a hint:
            # the slot's own document is checked below.
            last_said = None if said is None or said[1] is None else _last_of(said[1])
            if said is not None and said[0] != fit_key:
                passed["fit"] = passed.get("fit", 0) + 1
                continue
            if said is not None and before is not None and last_said is not None and last_said >= before:
                passed["later"] = passed.get("later", 0) + 1
                continue
            document = self.store.get(CHECKPOINTS, f"slot-{slot}")
            try:
                if document is None or document.get("format") != CHECKPOINT_FORMAT or document.get("fit") != fit:
                    passed["fit"] = passed.get("fit", 0) + 1
                    continue
                if document.get("stamp") in self._spoiled:
                    passed["damaged"] = passed.get("damaged", 0) + 1
                    continue  # a part of it was missing or from another checkpoint
                position = int(document["position"])
                last = None if document["last"] is None else (
                    datetime.fromisoformat(document["last"][0]), str(document["last"][1]))
                if position > top or position <= 0 or (before is not None and last is not None and last >= before):
                    passed["later"] = passed.get("later", 0) + 1
                    continue
                tail: set[str] = set()
                for _, when, ident in self._orders_after(position):
                    if last is not None and (when, ident) < last:
                        passed["late"] = passed.get("late", 0) + 1
                        break  # a late event was stored after it: it is not what a replay would give
                    tail.add(ident)
                else:
                    self._load_checkpoint(document, position, tail, int(slot))
                    self._why_not_restored = ""
                    return True
            except (KeyError, TypeError, ValueError, IndexError, GridcoreError):
                passed["damaged"] = passed.get("damaged", 0) + 1
                self._reset()  # a damaged or unreadable checkpoint: try an older one
                continue
        self._why_not_restored = self._passed_over(passed, index, fit, fits)
        return False

    def _passed_over(self, passed: Mapping[str, int], index: Mapping[str, int], fit: Mapping[str, Any],
                     fits: Mapping[str, Any]) -> str:
        """Why none of the checkpoints in ``index`` was restored (``OpenReport.why_not``); for those taken under
        something else, what differs for the newest of them (from the index's ``fits``: no slot is read)."""
        said = {"fit": "taken under other plugins, rulesets or roster", "late": "with a late event stored after it",
                "damaged": "damaged or incomplete", "later": "taken after the point replayed to"}
        why = "; ".join(f"{count} of {len(index)} {said[kind]}" for kind, count in passed.items())
        if passed.get("fit"):
            theirs = fits.get(max(index, key=lambda k: int(index[k])))
            if theirs is not None and theirs != fit:
                why += f" (the newest: {_fit_difference(theirs, fit)})"
        return why or "none fits"

    def _load_checkpoint(self, document: dict[str, Any], position: int, tail: set[str], slot: int) -> None:
        """Restore the core's state from ``document``; each plugin is given its own when first used (``_wake``)."""
        core = document["core"]
        states = document["states"]
        stamp = document["stamp"]
        if not isinstance(states, list) or not all(isinstance(name, str) for name in states) \
                or not isinstance(stamp, str):
            raise ValueError("a checkpoint names its plugins' documents in a list, with its stamp")
        plugins = {name: self.plugins.get_plugin(name) for name in states}
        if any(plugin is None for plugin in plugins.values()):
            raise ValueError("a plugin of the checkpoint is not attached")
        ignored = {str(ident): [str(reason) for reason in reasons]
                   for ident, reasons in core.get("ignored", {}).items()}
        for ident, reasons in ignored.items():
            self._ignored.setdefault(ident, reasons)  # (what this engine judged since stands)
        full = self._replayed_in_full(states)
        self._in_full = tuple(sorted(str(self.plugins.get_name(plugin)).removesuffix("#state") for plugin in full))
        if full:
            # Plugins without the hooks see every event up to the checkpoint, as a
            # replay would show them (the core's own state follows along).
            last = document["last"]
            upto = None if last is None else (datetime.fromisoformat(last[0]), str(last[1]))
            self._replay_only(full, skip=tuple(plugins.values()), tail=tail, upto=upto, ignored=ignored)
        else:
            self._population = {str(k): str(v) for k, v in core["population"].items()}
            self.households.restore(core["households"])
            self._high_water = None if core["high_water"] is None else datetime.fromisoformat(core["high_water"])
            last = document["last"]
            self._last = None if last is None else (datetime.fromisoformat(last[0]), str(last[1]))
            self._last_input = self._last  # not saved: as if the last event had been offered
            self._unread = {str(k): int(v) for k, v in core["unread"].items()}
        self._base = position
        self._forgot = True  # the ids applied up to it are asked of the store
        self._position = position
        self._checkpointed = position
        self._pending = {name: (plugin, _part_key(slot, name), stamp) for name, plugin in plugins.items()}

    def _wake(self, names: Iterable[str] | None = None) -> None:
        """Give the plugins still waiting (all, or those of ``names``) their state from the checkpoint.

        Opening restores the core's state from a checkpoint and leaves each
        plugin's document in the store until the plugin is used: a hook call
        that reaches plugins' state (an event, a tick, an explanation),
        ``state(name)``, or a report or metric of a plugin's state object.  So
        a read command reads only the state it shows.  A document that is
        missing or belongs to another checkpoint (two writers storing one
        slot at once) spoils that checkpoint: ``StoreConflict`` is raised and
        the caller rebuilds the state (``_woken``), from another checkpoint or
        the log.
        """
        wanted = list(self._pending) if names is None else [name for name in names if name in self._pending]
        was_waking, self._waking = self._waking, True
        try:
            # a state is many objects, all kept: full collections meanwhile would find nothing
            with fewer_full_collections():
                for name in wanted:
                    if name not in self._pending:
                        continue  # woken meanwhile (a plugin's restore asked for another's state)
                    plugin, key, stamp = self._pending.pop(name)
                    found = self.store.get(CHECKPOINTS, key)
                    try:
                        if found is None or found.get("stamp") != stamp:
                            raise ValueError(f"the document {key} is missing or belongs to another checkpoint")
                        state = found["state"]
                        if "pages" in found:
                            state = self._unpaged(key, stamp, state, found["pages"])
                        self.hooks.restore_state(cast("Engine", self), plugin, state)
                    except (KeyError, TypeError, ValueError, GridcoreError) as exc:
                        self._spoiled.add(stamp)
                        self._pending.clear()
                        self._warn_once(f"a checkpoint could not be read and was passed over: {exc} "
                                        "(检查点无法读取，已跳过，改为重放事件；结果不变)")
                        raise StoreConflict(f"the checkpoint {stamp[:12]} could not be read: {exc}") from None
        finally:
            self._waking = was_waking

    def _unpaged(self, key: str, stamp: str, state: dict[str, Any], pages: dict[str, int]) -> dict[str, Any]:
        """A plugin's document stored under ``key`` with lists or objects in pages (``_paged``): those read back
        whole (all the pages at once), each page checked to be of the checkpoint (``stamp``); ``ValueError``
        if one is missing or belongs to another checkpoint."""
        if not isinstance(state, dict) or not isinstance(pages, dict):
            raise TypeError(f"the document {key} names its pages in an object")
        wanted = [_page_key(key, listed_as, n) for listed_as, count in pages.items() for n in range(int(count))]
        found = stored_documents(self.store, CHECKPOINTS, wanted)
        whole = dict(state)
        for listed_as, count in pages.items():
            kind = type(state[listed_as])  # (an empty list or object: what the pages hold)
            if kind is not list and kind is not dict:
                raise ValueError(f"the document {key} holds no list or object {listed_as!r} in pages")
            listed: list[Any] = []
            named: dict[str, Any] = {}
            for n in range(int(count)):
                page = found.get(_page_key(key, listed_as, n))
                if page is None or page.get("stamp") != stamp or type(page.get("items")) is not kind:
                    raise ValueError(f"the page {_page_key(key, listed_as, n)} is missing or belongs to another "
                                     "checkpoint")
                if kind is list:
                    listed.extend(page["items"])
                else:
                    named.update(page["items"])
            whole[listed_as] = listed if kind is list else named
        return whole

    def _woken(self, names: Iterable[str] | None = None) -> None:
        """``_wake`` where nothing is under way: a spoiled checkpoint makes the state be rebuilt here."""
        if self._waking:
            self._wake(names)
            return
        try:
            self._wake(names)
        except StoreConflict:
            self._rebuild_state()

    def _wake_implementers(self, hook: str) -> None:
        """Wake the waiting plugins whose state object implements ``hook`` (its results may read the state)."""
        if self._pending:
            self._woken([name for name, (plugin, _, _) in self._pending.items() if hasattr(plugin, hook)])

    def _replay_only(self, plugins: list[object], *, skip: tuple[object, ...], tail: set[str],
                     upto: tuple[datetime, str] | None, ignored: Mapping[str, list[str]]) -> None:
        """Replay the events stored up to a checkpoint to the plugins not in ``skip``.

        A stored event the replays before the checkpoint gave no plugin (``ignored``, kept with it: id ->
        reasons) is given to them through ``gridcore_on_event_ignored``, as a replay would.

        ``upto`` is the canonical order of the checkpoint's last event: every event
        up to the checkpoint sorts at or before it, so the replay stops at the first
        that sorts after.  (Those are its ``tail``, and what another writer stored
        since the tail was read: the catching up after the restore applies them,
        once.)
        """
        hooks = self.hooks.without(skip)
        seen: set[str] = set()

        def apply(event: Event) -> None:
            if isinstance(event, (ResidentRegistered, ResidentMoved)):
                self._population[event.person] = event.node
            self.households.apply(event)
            if self._high_water is None or event.time > self._high_water:
                self._high_water = event.time
            order = event_order(event)
            if self._last is None or order > self._last:
                self._last = order
            if event.actor != SYSTEM_ACTOR and (self._last_input is None or order > self._last_input):
                self._last_input = order
            reasons = ignored.get(event.id)
            if reasons:
                hooks.on_event_ignored(cast("Engine", self), event, reasons)
            else:
                hooks.on_event(cast("Engine", self), event, True)
            seen.add(event.id)

        for doc in self.store.events():
            if str(doc.get("id")) in tail:
                continue
            event = self._decode_stored(doc)
            if event is None:
                continue
            if upto is not None and event_order(event) > upto:
                break
            for _ in range(10_000):
                due = sorted((e for e in hooks.on_tick(cast("Engine", self), event.time) if e.id not in seen), key=event_order)
                if not due:
                    break
                for derived in due:
                    if derived.id not in seen:
                        apply(derived)
            if event.id not in seen:
                apply(event)


def _fit_difference(theirs: Mapping[str, Any], ours: Mapping[str, Any]) -> str:
    """What differs between the fit a checkpoint was taken under and the engine's, for staff and benchmarks."""
    out: list[str] = []
    then, now = theirs.get("plugins") or {}, ours.get("plugins") or {}
    if isinstance(then, dict) and isinstance(now, dict):
        before, after = ({name.removesuffix("#state") for name in names} for names in (then, now))
        added, gone = sorted(after - before), sorted(before - after)
        other = sorted({name.removesuffix("#state") for name in then if name in now and then[name] != now[name]})
        if added:
            out.append(f"plugins loaded now and not then: {', '.join(added)}")
        if gone:
            out.append(f"plugins loaded then and not now: {', '.join(gone)}")
        if other:
            out.append(f"another version or state version of {', '.join(other)}")
    if theirs.get("rulesets") != ours.get("rulesets"):
        out.append("other rulesets in force")
    if theirs.get("community") != ours.get("community"):
        out.append("another roster")
    return "; ".join(out) or "another checkpoint format"


def _last_of(saved: Any) -> tuple[datetime, str] | None:
    """A checkpoint's last event ``[time, id]`` as a canonical order (None if it cannot be read)."""
    try:
        return datetime.fromisoformat(saved[0]), str(saved[1])
    except (TypeError, ValueError, IndexError):
        return None


def _doc_order(doc: Mapping[str, Any]) -> tuple[datetime, str]:
    """A stored document's canonical order (time, then id), as ``event_order`` gives for events."""
    return datetime.fromisoformat(str(doc["time"])).astimezone(UTC), str(doc["id"])
