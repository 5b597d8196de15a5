"""What-if replay: the same events under two rulesets, every difference explained.

``diff(events, ruleset_a, ruleset_b, community)`` keeps the primary events of a
log (what people did), drops the derived ones (actor ``system``: escalations
and other things the engine decided on ``tick``, which each ruleset must
decide for itself), replays them in two fresh engines on temporary stores, one
per ruleset, ticks both to the end of the log, and compares
``Engine.outcomes()`` subject by subject, grouped by the kind each plugin gives
its outcomes (with the built-ins: members whose points change, incidents handled
differently, grids that gain or lose stars, scores, subsidies), plus the events
that one ruleset refuses and the other accepts.  Each change carries the rules
(file:line) that produced the value on each side.  Nothing here knows a plugin:
a kind's title and unit come with its outcomes.

This is how staff test a policy change against last quarter before adopting it::

    gridcore diff --events last-quarter.jsonl --ruleset rulesets/yinquan/yinquan.rules \\
                  --ruleset proposal.rules
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from attrs import field

from gridcore.classes import frozen
from gridcore.clock import FixedClock
from gridcore.community import Community
from gridcore.engine import Engine, Refusal
from gridcore.errors import GridcoreError, chinese_first, chinese_first_line
from gridcore.events import SYSTEM_ACTOR, Event
from gridcore.explain import Outcome, OutcomeKind, RuleRef
from gridcore.plugin_host import Hooks, get_plugin_manager
from gridcore.reports import Table
from gridcore.rules.compiler import CompiledExpr
from gridcore.rules.ruleset import compile_items, item_key
from gridcore.rules.sections import Section
from gridcore.store.sqlite_store import SQLiteStore
from gridcore_app.forking import may_fork

if TYPE_CHECKING:
    import pluggy

    from gridcore.rules import Ruleset

#: The comparison's own kind of change: events refused on one side only.
#: The Chinese headings of a comparison table's columns (its ``headings``).
HEADINGS_ZH: Mapping[str, str] = {
    "kind": "类别", "subject": "对象", "a": "方案A", "b": "方案B", "delta": "差额",
    "rules_a": "方案A规则", "rules_b": "方案B规则",
}  # fmt: skip

REFUSALS = "refusals"
REFUSED = OutcomeKind(REFUSALS, "Events one ruleset refuses and the other accepts (一套规则拒绝、另一套接受的事件)")


@frozen
class Change:
    """One subject whose outcome differs: its value and rules under A and under B.

    ``a`` or ``b`` is ``None`` when the subject exists on one side only (a member
    who earns nothing under A, an event refused under B).
    """

    kind: str
    plugin: str
    subject: str
    label: str
    a: Any
    b: Any
    rules_a: tuple[RuleRef, ...] = ()
    rules_b: tuple[RuleRef, ...] = ()
    detail_a: str = ""
    detail_b: str = ""
    title: str = ""
    unit: str = ""
    #: the unit in Chinese (``OutcomeKind.unit_zh``: ``分``), for a diff said in Chinese
    unit_zh: str = ""

    @property
    def delta(self) -> float | None:
        """``b - a`` for numbers (a missing side counts as 0), else ``None``."""
        a, b = self.a, self.b
        numeric = (_number(a) or _number(b)) and (a is None or _number(a)) and (b is None or _number(b))
        return round(float(b or 0) - float(a or 0), 6) if numeric else None

    def responsible(self) -> tuple[tuple[RuleRef, ...], tuple[RuleRef, ...]]:
        """The rules that differ between the sides (all of them if both cite the same)."""
        keys_a = {_same_rule(r) for r in self.rules_a}
        keys_b = {_same_rule(r) for r in self.rules_b}
        only_a = tuple(r for r in self.rules_a if _same_rule(r) not in keys_b)
        only_b = tuple(r for r in self.rules_b if _same_rule(r) not in keys_a)
        if only_a or only_b:
            return only_a, only_b
        return self.rules_a, self.rules_b

    @property
    def same_rules(self) -> bool:
        """True when both sides cite the same rules (the cause is a rule they do not cite)."""
        return {_same_rule(r) for r in self.rules_a} == {_same_rule(r) for r in self.rules_b}

    def to_document(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind,
            "plugin": self.plugin,
            "subject": self.subject,
            "label": self.label,
            "a": self.a,
            "b": self.b,
            "delta": self.delta,
            "rules_a": [_rule_doc(r) for r in self.rules_a],
            "rules_b": [_rule_doc(r) for r in self.rules_b],
            "detail_a": self.detail_a,
            "detail_b": self.detail_b,
        }


@frozen
class RuleChange:
    """One rule whose text differs between the rulesets: added, removed or changed in B.

    Rules are compared item by item after inheritance, an item named in
    Chinese paired with the same item named in English; a section whose
    policies mean the same on every day is not listed, however it is worded.
    A change in a dated line is listed as that version (``activity x from
    2025-01-01``) with its own line on each side.
    """

    section: str
    item: str
    a: RuleRef | None
    b: RuleRef | None

    @property
    def action(self) -> str:
        """``added`` (only in B), ``removed`` (only in A) or ``changed``."""
        return "added" if self.a is None else "removed" if self.b is None else "changed"

    def to_document(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"section": self.section, "item": self.item, "action": self.action,
                "a": None if self.a is None else _rule_doc(self.a),
                "b": None if self.b is None else _rule_doc(self.b)}


@frozen
class Diff:
    """Everything that differs between two replays of the same events."""

    ruleset_a: str
    ruleset_b: str
    events: int
    compared: int
    refused_a: int
    refused_b: int
    changes: tuple[Change, ...] = field(factory=tuple)
    rule_changes: tuple[RuleChange, ...] = field(factory=tuple)

    def kinds(self) -> list[str]:
        """The kinds of the changes, in the order they first appear."""
        return list(dict.fromkeys(c.kind for c in self.changes))

    def of_kind(self, kind: str) -> tuple[Change, ...]:
        """The changes of one kind (with the built-in plugins: ``points``, ``incidents``, ``stars``, ...)."""
        return tuple(c for c in self.changes if c.kind == kind)

    def summary(self) -> dict[str, int]:
        """How many subjects changed, by kind."""
        return {kind: len(self.of_kind(kind)) for kind in self.kinds()}

    def to_document(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``gridcore diff --format json`` prints)."""
        return {
            "a": self.ruleset_a,
            "b": self.ruleset_b,
            "events": self.events,
            "compared": self.compared,
            "refused": {"a": self.refused_a, "b": self.refused_b},
            "summary": self.summary(),
            "rule_changes": [r.to_document() for r in self.rule_changes],
            "changes": [c.to_document() for c in self.changes],
        }

    def table(self) -> Table:
        """The changes as a table (for CSV)."""
        rows = []
        for c in self.changes:
            rules_a, rules_b = c.responsible()
            rows.append((c.kind, c.subject, c.label, _show(c.a), _show(c.b), c.delta,
                         " ".join(map(_where, rules_a)), " ".join(map(_where, rules_b))))
        return Table(
            title=f"{self.ruleset_a} -> {self.ruleset_b}",
            columns=("kind", "subject", "name", "a", "b", "delta", "rules_a", "rules_b"),
            rows=tuple(rows),
            headings=HEADINGS_ZH,
        )

    def render(self, fmt: str = "text", *, limit: int = 25) -> str:
        """Text for people (at most ``limit`` lines per kind), or ``json`` / ``csv``."""
        if fmt == "json":
            return json.dumps(self.to_document(), ensure_ascii=False, indent=2, default=str) + "\n"
        if fmt == "csv":
            return self.table().render(fmt)  # (a Format carries the header's language)
        if fmt != "text":
            raise ValueError(f"unknown format {fmt!r}; choose text, csv or json (格式应为 text、csv 或 json)")
        zh = getattr(fmt, "lang", "en") == "zh"  # (staff reading Chinese: each line Chinese first)
        said = chinese_first_line if zh else str
        out = [
            f"{'规则对比：' if zh else 'what-if: '}A = {self.ruleset_a}, B = {self.ruleset_b}",
            (f"{self.events} events replayed under each; {self.compared} outcomes compared; "
             f"refused: {self.refused_a} under A, {self.refused_b} under B (两套规则各重放 {self.events} 个事件，"
             f"比较 {self.compared} 项结果；被拒绝：A {self.refused_a} 个，B {self.refused_b} 个)"),
        ]
        out[1] = said(out[1])
        if self.rule_changes:
            out.append("")
            out.append(f"规则变化：{len(self.rule_changes)}" if zh else
                       f"Rules that differ (规则变化): {len(self.rule_changes)}")
            for rule in self.rule_changes:
                if zh:  # (the rule's item as the ruleset writes it, quoted)
                    out.append(f"  {_ACTIONS_ZH[rule.action]} {rule.section}：「{rule.item}」")
                else:
                    out.append(f"  {rule.action} {rule.section}: {rule.item}")
                if rule.a is not None:
                    out.append(f"      A: {_rules_text((rule.a,), zh)}")
                if rule.b is not None:
                    out.append(f"      B: {_rules_text((rule.b,), zh)}")
        if not self.changes:
            out.append(said("no differences in outcomes (结果没有差异)"))
        for kind in self.kinds():
            changes = self.of_kind(kind)
            out.append("")
            if zh:
                out.append(f"{said(changes[0].title or kind)}：{len(changes)}{_totals(changes, zh)}")
            else:
                out.append(f"{changes[0].title or kind}: {len(changes)}{_totals(changes)}")
            for change in _ranked(changes)[:limit]:
                out.extend(_lines(change, self.rule_changes, zh))
            if len(changes) > limit:
                out.append(f"  ……另有 {len(changes) - limit} 项（--format json 列出全部）" if zh else
                           f"  ... and {len(changes) - limit} more (--format json lists all)")
        return "\n".join(out) + "\n"


# ---------------------------------------------------------------- replay


def primary_events(
    events: Iterable[Event | Mapping[str, Any]],
) -> list[Event | Mapping[str, Any]]:
    """Drop derived events (actor ``system``): each ruleset derives its own."""
    kept: list[Event | Mapping[str, Any]] = []
    for event in events:
        if isinstance(event, Event):
            if event.actor == SYSTEM_ACTOR or type(event).derived:
                continue
        elif isinstance(event, Mapping) and event.get("actor") == SYSTEM_ACTOR:
            continue
        kept.append(event)
    return kept


def replay(
    events: Iterable[Event | Mapping[str, Any]],
    ruleset: Ruleset | str | Path,
    community: Community,
    *,
    until: datetime | None = None,
    plugins: pluggy.PluginManager | None = None,
) -> tuple[Ruleset, list[Outcome], list[Refusal], int]:
    """Replay primary events under one ruleset in a fresh engine on a temporary store.

    Returns the compiled ruleset, the outcomes, the refusals and how many
    events were replayed.  The engine is ticked to ``until`` (default: the
    last event).  ``plugins``: the process's plugin manager (default: a fresh one).
    """
    kept = primary_events(events)
    times = _times(kept)
    first = min(times, default=datetime(2000, 1, 1, tzinfo=community.tz))
    last = max(times, default=first)
    with tempfile.TemporaryDirectory(prefix="gridcore-whatif-") as folder:
        # a throwaway SQLite file, not synced to disk: a TinyDB store rewrites all its documents
        # (every checkpoint and sealed part so far) on each one stored, which grows with the log
        store = SQLiteStore(Path(folder) / "store.db", durable=False)
        engine = Engine.open(store=store, community=community, clock=FixedClock(first),
                             plugins=plugins if plugins is not None else get_plugin_manager())
        with engine:
            # nothing reopens this store: no checkpoint after the replay, the tick or on closing (those
            # a long replay takes as it goes still write the plugins' sealed parts out of memory)
            engine.checkpoint_min = sys.maxsize
            # each side governs the whole tree: a community's variant (its 'applies to') is compared
            # with the district's rules as if it were everyone's, not left alone over its own subtree
            compiled = _compiled(ruleset, engine.plugins, community.roles)
            in_force = engine.use_ruleset(attrs.evolve(compiled, applies_to=None) if compiled.applies_to
                                          else compiled, effective=first)
            # Documents go in as they are: a malformed one is refused (with its
            # field and reason) on both sides alike, never a crash.
            summary = engine.record_many(kept)
            engine.tick(max(until or last, last))
            return in_force, engine.outcomes(), summary.refused, len(kept)


def diff(
    events: Iterable[Event | Mapping[str, Any]],
    ruleset_a: Ruleset | str | Path,
    ruleset_b: Ruleset | str | Path,
    community: Community | str | Path,
    *,
    until: datetime | None = None,
    plugins: pluggy.PluginManager | None = None,
    jobs: int | None = None,
) -> Diff:
    """Replay the same primary events under two rulesets and compare every outcome.

    ``events`` are event objects or JSON documents (derived ones are dropped);
    ``community`` is a ``Community`` or its folder.  A ruleset that does not
    load raises ``gridcore.rules.RulesError``.  Both replays use ``plugins``
    (default: one fresh plugin manager).

    ``jobs=2`` runs the two replays at once, B in a forked process (where
    ``fork`` exists: Linux; elsewhere one after the other); the result is the
    same either way.  Default: two from ``PARALLEL_FROM`` primary events on
    (a district's year), one below (a process costs more than it saves).
    """
    pm = plugins if plugins is not None else get_plugin_manager()
    the_community = community if isinstance(community, Community) else _load(community, pm)
    kept = primary_events(events)
    if jobs is None:
        jobs = 2 if len(kept) >= PARALLEL_FROM else 1
    if jobs > 1 and _can_fork():
        rules_a, rules_b = (_compiled(r, pm, the_community.roles) for r in (ruleset_a, ruleset_b))  # a broken one raises here
        (outcomes_a, refused_a, count), (outcomes_b, refused_b, _) = _replay_both(
            kept, rules_a, rules_b, the_community, until, pm)
    else:
        rules_a, outcomes_a, refused_a, count = replay(kept, ruleset_a, the_community, until=until, plugins=pm)
        rules_b, outcomes_b, refused_b, _ = replay(kept, ruleset_b, the_community, until=until, plugins=pm)
    name_a, name_b = rules_a.name, rules_b.name
    if name_a == name_b:
        name_a, name_b = _label(ruleset_a, name_a), _label(ruleset_b, name_b)
    changes = compare(outcomes_a, outcomes_b, the_community)
    changes.extend(_refusal_changes(refused_a, refused_b))
    compared = len({(o.plugin, o.subject) for o in (*outcomes_a, *outcomes_b)})
    return Diff(name_a, name_b, count, compared, len(refused_a), len(refused_b), tuple(changes),
                rule_changes(rules_a, rules_b, Hooks(pm).register_sections()))


#: From this many primary events on, ``diff`` replays both sides at once by default.
PARALLEL_FROM = 20_000


def _can_fork() -> bool:
    """``fork`` exists and no other thread is alive (``gridcore_app.forking``)."""
    return may_fork()


def _compiled(ruleset: Ruleset | str | Path, pm: pluggy.PluginManager, roles: Mapping[str, str]) -> Ruleset:
    from gridcore.rules import Ruleset as RulesetClass
    from gridcore.rules import load_ruleset

    if isinstance(ruleset, RulesetClass):
        return ruleset.for_roster(roles)
    hooks = Hooks(pm)
    return load_ruleset(Path(ruleset), sections=hooks.register_sections(), metrics=hooks.register_metrics(),
                        roles=roles)


Replayed = tuple[list[Outcome], list[Refusal], int]


def _replay_both(kept: list[Any], rules_a: Ruleset, rules_b: Ruleset, community: Community,
                 until: datetime | None, pm: pluggy.PluginManager) -> tuple[Replayed, Replayed]:
    """A here and B in a forked process at the same time (the child shares the events without copying)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_replay_in_child, args=(send, kept, rules_b, community, until, pm),
                            name="gridcore-whatif-b", daemon=True)
    child.start()
    send.close()
    try:
        _, outcomes, refused, count = replay(kept, rules_a, community, until=until, plugins=pm)
        try:
            answer = receive.recv()
        except EOFError:
            child.join()
            raise GridcoreError(f"the replay under {rules_b.name} stopped without an answer "
                                f"(exit code {child.exitcode}); run with jobs=1 to see why "
                                "(另一进程中的重放没有给出结果就停止了：请用 --jobs 1 重试以查看原因)") from None
    finally:
        receive.close()
        if child.is_alive():
            child.join(timeout=5)
        if child.is_alive():
            child.kill()
    if isinstance(answer, str):
        raise GridcoreError(f"the replay under {rules_b.name} failed: {answer} (按规则集 {rules_b.name} 重放失败)")
    return (outcomes, refused, count), answer


def _replay_in_child(send: Any, kept: list[Any], ruleset: Ruleset, community: Community,
                     until: datetime | None, pm: pluggy.PluginManager) -> None:
    try:
        _, outcomes, refused, count = replay(kept, ruleset, community, until=until, plugins=pm)
        send.send((outcomes, refused, count))
    except Exception as exc:  # noqa: BLE001 - told to the parent, which raises it
        send.send(f"{type(exc).__name__}: {exc}")
    finally:
        send.close()


def rule_changes(a: Ruleset, b: Ruleset, sections: Iterable[Section[Any]] = ()) -> tuple[RuleChange, ...]:
    """Every item whose meaning differs between two rulesets, version by version.

    With ``sections`` (the installed ones), items are paired by the id their
    name spells (``倾斜 专职网格员`` with ``tilt fulltime_gridworker``,
    ``事件 水管漏水`` with ``incident leaking_pipe``), a section whose policies
    mean the same on every day (the same rules in other words or in Chinese)
    lists nothing, and in a section that does change, a version written
    differently is listed only if it means something else: put in B in place
    of B's own, does A's version change B's policies?  A changed item lists
    the dated versions that differ, each side with its own line.
    """
    by_name = {section.name: section for section in sections}
    found = []
    for section in sorted(set(a.items) | set(b.items)):
        if section in by_name and _same_policies(a, b, by_name[section]):
            continue
        key_a = item_key(by_name, a.level_names, a.titles) if by_name else None
        key_b = item_key(by_name, b.level_names, b.titles) if by_name else None
        items_a = {key_a(section, item) if key_a else item.key: item for item in a.items.get(section, ())}
        items_b = {key_b(section, item) if key_b else item.key: item for item in b.items.get(section, ())}
        for key in [*items_a, *(k for k in items_b if k not in items_a)]:
            item_a, item_b = items_a.get(key), items_b.get(key)
            if item_a is not None and item_b is not None and item_a == item_b:
                continue
            written = (item_b or item_a).key  # type: ignore[union-attr]
            label = f"{written[0]} {written[1]}" if written[1] is not None else written[0]
            if item_a is None or item_b is None:
                found.append(RuleChange(section, label, None if item_a is None else item_a.ref,
                                        None if item_b is None else item_b.ref))
                continue
            reworded = _reworded(a, b, by_name.get(section), item_b)
            found.extend(_version_changes(section, label, item_a, item_b, reworded))
    return tuple(found)


def _version_changes(section: str, label: str, item_a: Any, item_b: Any,
                     reworded: Callable[[Any], bool] = lambda _: False) -> list[RuleChange]:
    """The versions of one item that differ (by their dates), each with its own line.

    The item's name may be spelt differently on each side (they were paired by
    the id it spells); what counts is what each version says: a version that
    only says the same in other words (``reworded(version of A)``) is left out.
    """
    versions_a = {(v.since, v.until): v for v in item_a.versions}
    versions_b = {(v.since, v.until): v for v in item_b.versions}
    out = []
    for dates in [*versions_a, *(d for d in versions_b if d not in versions_a)]:
        va, vb = versions_a.get(dates), versions_b.get(dates)
        if va is not None and vb is not None and (va.body == vb.body or reworded(va)):
            continue
        since = dates[0]
        out.append(RuleChange(section, label if since is None else f"{label} from {since}",
                              None if va is None else va.ref, None if vb is None else vb.ref))
    return out


def _reworded(a: Ruleset, b: Ruleset, section: Section[Any] | None, item_b: Any) -> Callable[[Any], bool]:
    """Whether a version of A says what B's version of the same dates says.

    A's version is put in B's item in place of B's own and the section
    compiled again in B: the same policies on every day (rule references and
    wording aside) means the two say the same in other words.
    """
    if section is None:
        return lambda _: False
    policies_b = b.policies(section)

    def same(version_a: Any) -> bool:
        versions = tuple(version_a if (v.since, v.until) == (version_a.since, version_a.until) else v
                         for v in item_b.versions)
        swapped = attrs.evolve(item_b, versions=versions)
        items = [swapped if item is item_b else item for item in b.items.get(section.name, ())]
        policies = compile_items(b, section, items, sources=a.sources)
        if policies is None:
            return False
        days = sorted({s.since or date.min for s in (*policies, *policies_b)})
        return all(_meaning(_at(policies, day)) == _meaning(_at(policies_b, day)) for day in days)

    return same


def _at(policies: Sequence[Any], day: date) -> Any:
    return next((p.policy for p in policies if p.covers(day)), None)


def _same_policies(a: Ruleset, b: Ruleset, section: Section[Any]) -> bool:
    """Whether a section's policies mean the same on every day (rule references and wording aside)."""
    spans_a, spans_b = a.policies(section), b.policies(section)
    if not spans_a or not spans_b:
        return not spans_a and not spans_b
    days = sorted({s.since or date.min for s in (*spans_a, *spans_b)})
    return all(_meaning(a.policy(section, at=day)) == _meaning(b.policy(section, at=day)) for day in days)


def _meaning(value: Any) -> Any:
    """A policy with where each rule is written (and how) left out, for comparison."""
    if isinstance(value, RuleRef):
        return None
    if isinstance(value, CompiledExpr):
        return ("expr", value.source, value.params, value.type)
    if attrs.has(type(value)):
        return (type(value).__qualname__,
                tuple((f.name, _meaning(getattr(value, f.name))) for f in attrs.fields(type(value))
                      if f.name != "text"))
    if isinstance(value, (list, tuple)):
        return tuple(_meaning(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_meaning(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((repr(k), _meaning(v)) for k, v in value.items()))
    if callable(value):
        return getattr(value, "__qualname__", repr(value))
    return value


def compare(outcomes_a: Iterable[Outcome], outcomes_b: Iterable[Outcome], community: Community) -> list[Change]:
    """Every subject whose value differs between two lists of outcomes.

    Grouped by kind, kinds in the order they first appear (A's outcomes, then
    B's), subjects in order within a kind.
    """
    listed_a, listed_b = list(outcomes_a), list(outcomes_b)
    side_a = {(o.plugin, o.subject): o for o in listed_a}
    side_b = {(o.plugin, o.subject): o for o in listed_b}
    order = {name: n for n, name in enumerate(dict.fromkeys(o.sort.name for o in (*listed_a, *listed_b)))}
    changes = []
    for key in sorted(set(side_a) | set(side_b)):
        a, b = side_a.get(key), side_b.get(key)
        value_a = None if a is None else a.value
        value_b = None if b is None else b.value
        if _same(value_a, value_b):
            continue
        plugin, subject = key
        kind = (b if a is None else a).sort  # type: ignore[union-attr]
        changes.append(Change(
            kind=kind.name,
            title=kind.title,
            unit=kind.unit,
            unit_zh=kind.unit_zh,
            plugin=plugin,
            subject=subject,
            label=_label_of(subject, community),
            a=value_a,
            b=value_b,
            rules_a=() if a is None else tuple(a.rules),
            rules_b=() if b is None else tuple(b.rules),
            detail_a="" if a is None else a.detail,
            detail_b="" if b is None else b.detail,
        ))
    changes.sort(key=lambda c: order[c.kind])  # stable: subjects stay in order within a kind
    return changes


# ---------------------------------------------------------------- helpers


def _load(path: str | Path, plugins: pluggy.PluginManager | None = None) -> Community:
    """A community folder, YAML file or roster workbook, through the roster formats' hook."""
    return Hooks(plugins if plugins is not None else get_plugin_manager()).load_community(Path(path))


def _times(events: list[Event | Mapping[str, Any]]) -> list[datetime]:
    """The (aware) times of events and documents; unreadable ones are left to the engine to refuse."""
    times = []
    for event in events:
        if isinstance(event, Event):
            times.append(event.time)
        elif isinstance(event.get("time"), str):
            try:
                when = datetime.fromisoformat(event["time"])
            except ValueError:
                continue
            if when.tzinfo is not None:
                times.append(when)
    return times


def _label(ruleset: Ruleset | str | Path, name: str) -> str:
    """Two rulesets of one name are told apart by their files."""
    return str(ruleset) if isinstance(ruleset, (str, Path)) else (ruleset.entry or name)


def _label_of(subject: str, community: Community) -> str:
    parts = subject.split(":")
    if len(parts) < 2:
        return ""
    if parts[0] == "member" and parts[1] in community.members:
        return community.members[parts[1]].name
    if parts[0] == "node" and parts[1] in community.hierarchy:
        return community.hierarchy.node(parts[1]).name
    return ""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    if _number(a) and _number(b):
        return abs(float(a) - float(b)) < 1e-9
    return bool(a == b)


def _refusal_changes(refused_a: list[Refusal], refused_b: list[Refusal]) -> list[Change]:
    by_a = {r.event_id: r for r in refused_a}
    by_b = {r.event_id: r for r in refused_b}
    changes = []
    for event_id in sorted(set(by_a) ^ set(by_b)):
        a, b = by_a.get(event_id), by_b.get(event_id)
        changes.append(Change(
            kind=REFUSED.name, title=REFUSED.title, plugin="core", subject=f"event:{event_id}", label="",
            a="refused" if a else "accepted", b="refused" if b else "accepted",
            detail_a="; ".join(a.reasons) if a else "", detail_b="; ".join(b.reasons) if b else "",
        ))
    return changes


def _same_rule(rule: RuleRef) -> tuple[str, int, str]:
    """Two references to one rule may spell its file differently (a path, a name)."""
    return (Path(rule.file).name, rule.line, " ".join(rule.text.split()))


def _where(rule: RuleRef) -> str:
    """``file:line``, with an absolute path shortened to one relative to the working folder."""
    path = Path(rule.file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            pass
    return f"{path}:{rule.line}"


def _rule_doc(rule: RuleRef) -> dict[str, Any]:
    return {"file": rule.file, "line": rule.line, "column": rule.column, "text": rule.text}


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _ranked(changes: tuple[Change, ...]) -> list[Change]:
    """Biggest numeric changes first, then by subject."""
    return sorted(changes, key=lambda c: (-abs(c.delta) if c.delta is not None else 0.0, c.subject))


#: What became of a rule between A and B, in Chinese.
_ACTIONS_ZH = {"added": "新增", "removed": "删除", "changed": "改动"}
#: An event's outcome on either side (the comparison's own kind of change), in Chinese.
_OUTCOMES_ZH = {"refused": "拒绝", "accepted": "接受"}


def _totals(changes: tuple[Change, ...], zh: bool = False) -> str:
    """For a kind with a unit: how many go up and down, and the net change (in Chinese for ``zh``)."""
    deltas = [c.delta for c in changes if c.delta is not None]
    unit = changes[0].unit
    if not unit or not deltas:
        return ""
    up = sum(1 for d in deltas if d > 0)
    if zh:
        return f"（增 {up}，减 {len(deltas) - up}，净变化 {sum(deltas):+g} {changes[0].unit_zh or unit}）"
    return f" ({up} up, {len(deltas) - up} down, net {sum(deltas):+g} {unit})"


def _rules_text(rules: tuple[RuleRef, ...], zh: bool = False) -> str:
    """The rules behind an outcome, each ``file:line`` and its text (three at most), in Chinese for ``zh``."""
    if not rules:
        return "（无规则）" if zh else "(no rule)"
    shown = [_where(r) + (f" {r.text.strip()}" if r.text.strip() else "") for r in rules[:3]]
    more = (f"（另有 {len(rules) - 3} 条）" if zh else f" (+{len(rules) - 3} more)") if len(rules) > 3 else ""
    return "; ".join(shown) + more


def _lines(change: Change, rule_changes: tuple[RuleChange, ...] = (), zh: bool = False) -> list[str]:
    name = f" {change.label}" if change.label else ""
    delta = f"  ({change.delta:+g})" if change.delta is not None else ""
    shown_a, shown_b = (_show(change.a), _show(change.b)) if not zh else \
        (_OUTCOMES_ZH.get(_show(change.a), _show(change.a)), _OUTCOMES_ZH.get(_show(change.b), _show(change.b)))
    lines = [f"  {change.subject}{name}: {shown_a} -> {shown_b}{delta}"]
    if change.kind == REFUSALS:
        reason = change.detail_a or change.detail_b
        side = "A" if change.detail_a else "B"
        lines.append(f"      {side} 拒绝：{chinese_first(reason)}" if zh else f"      {side} refused it: {reason}")
        return lines
    rules_a, rules_b = change.responsible()
    lines.append(f"      A: {_rules_text(rules_a, zh)}")
    lines.append(f"      B: {_rules_text(rules_b, zh)}")
    if change.same_rules:
        # The outcome cites the same rules on both sides: what changed is a rule
        # that shapes the result without being cited (a tilt, a cap, a limit).
        behind = [r for r in rule_changes if r.section == change.plugin]
        if behind:
            lines.append(("      两边引用的规则相同；本节中 B 的改动：" if zh else
                          "      same rules cited on both sides; in this section B changes: ")
                         + ("；".join(f"「{r.item}」（{_where(r.b) if r.b else '已删除'}）" for r in behind) if zh
                            else "; ".join(f"{r.item} ({_where(r.b) if r.b else 'removed'})" for r in behind)))
    return lines
