"""What couples a district's communities (and streets) at ingest: can the log be split into shards?

Issue 14 asks for a district's ingest run in parallel across communities,
exactly as the serial ingest would run it.  That is sound only if no state an
event reads or writes is also read or written by an event of another shard
(else the shards' states must be merged, plugin by plugin).  This tool reads a
district's event file (JSON lines, as ``gridcore simulate --out`` and
``gridcore ingest`` write and read it) and answers, without ingesting:

* **per plugin, the keys of the state each event touches** (the model below,
  read from the plugins' code: each plugin keys its state by person, incident,
  place, day, reward ...);
* **the connected components** of events when two events sharing a key must be
  in one shard (union-find), for the core alone, each plugin with the core,
  and all together: the largest component, and how many events lie in a
  component that spans more than one shard; shards by community and by street;
* **the shard groups**: shards joined whenever one component spans them; a
  split by community (street) is exact by construction only between groups.
  The same is measured with the roster's people (staff) left out of the keys
  (``all, staff actors left out``: what the points accounts add);
* **people across communities**: who acts, or is named, in more than one
  community (staff and residents; residents who moved; who earns or spends
  points in more than one: what accounts per community would split);
* **growth**: the largest component of the first 30, 60, 90 ... days, in
  events and as a share of the events other than patrols (the work).

``--verify-split K`` then checks the model by ingesting: the file is cut into
K shards sharing no key (whole components, the largest first to the smallest
shard), and each shard and the whole file are ingested apart (as ``gridcore
ingest`` does, into fresh SQLite stores, child processes side by side, CPU
time of each); the union of the shards' stored events (derived ones too),
refusals and plugins' outcomes is compared with the serial ingest's, and the
serial ingest's refusals and derived events are counted by kind, with the
plugins that judge and read each kind (what a design running the plugins in
parallel must pass between processes).

The key model (``KEYS``; ``python benchmarks/district_coupling.py --model``
prints it).  State a merge can add up without reading (patrol counts per day
and node, the participants of a day: assessment) is *commutative*, listed
but not joining events.  What is global and order-only (the points plugin's
``last_time`` for late redemptions, the time queues, the store's log
positions, archive parts cut by count) is named in the findings
(docs/district.md, "Parallel ingest: what couples communities"), not here:
those need a merge contract, whatever the split.

* core: an actor who is not on the roster is a registered resident
  (``knows_person`` reads the population: key ``person``), as is every person
  field (``member``, ``person``, ``handler``, ``participants``); a
  registration or a move writes ``person``; household events read and write
  ``household`` (and a split's new household and residents);
* points: the account of whoever is credited or spends: ``participant`` of an
  activity (its caps, claims, streaks, lots: all per member), redeemer,
  awardee; an incident's track (``incident``) credits its reporter and
  resolver at closing, so the incident's reporting and resolving actors join
  it; a reward's ``stock`` (only for rewards given to ``keys_of`` as stocked:
  Yinzhou's rules have none) and a recognition ``budget`` per node are keys
  of the whole store;
* escalation: ``incident`` (its ladder, timers, decisions), and duplicates
  and repeats per ``(category, place or node)`` of a report;
* assessment: ``incident`` (unresolved, with node and severity), ``person``
  of registrations and moves; commutative: patrols per (day, node),
  participants per day;
* tasks: ``task`` and its assignees' accounts (points' task booking).

Run ``python benchmarks/district_coupling.py FILE [FILE ...] [--json OUT]
[--verify-split K --work DIR] [--no-measure]`` (a district's file, e.g. what
``python benchmarks/district.py --busy`` simulates, written as JSON lines;
``--community DIR`` and ``--ruleset FILE`` for another district than
Yinzhou).  Uses the public API only (``gridcore_app.rosterio.load_community``,
the community's hierarchy and roster, ``Engine``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
YINZHOU = REPO / "rulesets" / "yinzhou"

INCIDENT_KINDS = frozenset({
    "incident_reported", "repeat_report_joined", "incident_accepted", "incident_handling_started",
    "incident_paused", "incident_resumed", "incident_escalated", "incident_resolved", "incident_verified",
    "satisfaction_rated", "incident_reopened", "incident_closed", "extension_requested",
    "extension_approved", "extension_refused", "consultation_held", "feedback_given", "incident_returned",
    "incident_assigned",
})
HOUSEHOLD_KINDS = frozenset({"household_moved_in", "household_moved_out", "household_split",
                             "household_visited"})
TASK_KINDS = frozenset({"task_assigned", "task_completed", "task_overdue", "task_cancelled"})

#: Which plugins react to (read in ``gridcore_on_event``) each event kind, from their code.
REACTS: dict[str, tuple[str, ...]] = {
    **{kind: ("escalation",) for kind in INCIDENT_KINDS},
    "activity_recorded": ("points", "assessment"),
    "patrol_logged": ("assessment",),
    "resident_registered": ("core", "points", "assessment"),
    "resident_moved": ("core", "points", "assessment"),
    "points_redeemed": ("points",),
    "recognition_awarded": ("points",),
    "incident_reported": ("escalation", "points", "assessment"),
    "incident_resolved": ("escalation", "points", "assessment"),
    "incident_verified": ("escalation", "points"),
    "satisfaction_rated": ("escalation", "points"),
    "incident_closed": ("escalation", "points", "assessment"),
    "consultation_held": ("escalation", "points"),
    "repeat_report_joined": ("escalation", "assessment"),
    "incident_reopened": ("escalation", "assessment"),
    **{kind: ("core",) for kind in HOUSEHOLD_KINDS},
    **{kind: ("tasks", "points") for kind in TASK_KINDS},
}
#: Which plugin's ``gridcore_validate_event`` can refuse each kind (the core refuses every kind:
#: unknown node, actor or person, and its permission rows for its own kinds).
JUDGES: dict[str, tuple[str, ...]] = {
    "activity_recorded": ("core", "points"),
    "points_redeemed": ("core", "points"),
    "recognition_awarded": ("core", "points"),
    **{kind: ("core", "escalation") for kind in INCIDENT_KINDS},
    **{kind: ("core", "tasks") for kind in TASK_KINDS},
}

PLUGINS = ("core", "points", "escalation", "assessment", "tasks")
#: The key model, per plugin (see the module's docstring), as printed by ``--model``.
KEYS = {
    "core": "person (non-roster actor, person fields, registrations, moves); household (household events)",
    "points": "person (participant, redeemer, awardee; an incident's reporter and resolver through "
              "incident); incident (tracks); stock per reward; budget per node",
    "escalation": "incident; (category, place or node) of a report (duplicates, repeats)",
    "assessment": "incident; person (registrations, moves); commutative: patrols per (day, node), "
                  "participants per day",
    "tasks": "task; person (assignees)",
}


class UnionFind:
    """Disjoint sets of event indices, joined through the keys they share."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        parent = self.parent
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def growth(docs: list[dict[str, Any]], roster: frozenset[str], every: timedelta = timedelta(days=30),
           ) -> list[dict[str, Any]]:
    """The largest component (all plugins' keys) of the log's first 30, 60, 90 ... days, as it grows.

    Each row: the days, the events then, the largest component's events and its share, and its share of
    the events other than patrols (a patrol by the staff of its cell touches no key and costs about a
    quarter of another event: the bulk that any split balances easily).
    """
    if not docs:
        return []
    sets = UnionFind(len(docs))  # joined by size here (the largest component is read as it grows)
    parent, find = sets.parent, sets.find
    size = [1] * len(docs)
    heavy = [0 if doc["kind"] == "patrol_logged" else 1 for doc in docs]

    first: dict[tuple[str, ...], int] = {}
    rows: list[dict[str, Any]] = []
    start = datetime.fromisoformat(docs[0]["time"])
    cut = start + every
    heavy_total = 0

    def row(n: int) -> dict[str, Any]:
        top = max(range(n), key=lambda i: size[i] if parent[i] == i else -1)
        return {"days": round((cut - start) / timedelta(days=1)), "events": n, "largest": size[top],
                "share": round(size[top] / n, 3),
                "share_of_other_than_patrols": round(heavy[top] / max(heavy_total, 1), 3)}

    for n, doc in enumerate(docs):
        when = datetime.fromisoformat(doc["time"])
        while when >= cut:
            rows.append(row(n))
            cut += every
        heavy_total += 1 if doc["kind"] != "patrol_logged" else 0
        for plugin in PLUGINS:
            for key in keys_of(doc, plugin, roster, False):
                seen = first.setdefault(key, n)
                if seen == n:
                    continue
                a, b = find(seen), find(n)
                if a != b:
                    if size[a] < size[b]:
                        a, b = b, a
                    parent[b] = a
                    size[a] += size[b]
                    heavy[a] += heavy[b]
    rows.append(row(len(docs)))
    rows[-1]["days"] = "all"
    return rows


def read_events(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Every event document of the files, in file order."""
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)


def keys_of(doc: dict[str, Any], plugin: str, roster: frozenset[str], ignore_actors: bool,
            stocked: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """The keys of the state ``doc`` reads or writes in ``plugin`` (the model of the docstring).

    ``roster``: the people on the roster (an actor on it reads no state to be known); with
    ``ignore_actors``, no key of a person acting as staff (a roster member) is counted; ``stocked``: the
    rewards with a stock (one count for the whole store; Yinzhou's rules give none).
    """
    kind = doc["kind"]
    actor = doc["actor"]
    keys: list[tuple[str, ...]] = []

    def person(who: str | None) -> None:
        if who and who != "system" and not (ignore_actors and who in roster):
            keys.append(("person", who))

    if plugin == "core":
        if actor not in roster:
            person(actor)
        for name in ("member", "person", "handler"):
            if doc.get(name):
                person(doc[name])
        for who in doc.get("participants") or ():
            person(who)
        if kind in HOUSEHOLD_KINDS or doc.get("household"):
            if doc.get("household"):
                keys.append(("household", doc["household"]))
            if doc.get("new_household"):
                keys.append(("household", doc["new_household"]))
            for who in doc.get("residents") or ():
                person(who)
    elif plugin == "points":
        if kind == "activity_recorded":
            person(doc.get("member") or actor)
        elif kind == "points_redeemed":
            person(doc.get("member") or actor)
            if doc["reward"] in stocked:
                keys.append(("stock", doc["reward"]))
        elif kind == "recognition_awarded":
            person(doc.get("member"))
            keys.append(("budget", doc["node"]))
        elif kind in ("resident_registered", "resident_moved"):
            person(doc["person"])
        elif kind in ("incident_reported", "incident_resolved"):
            keys.append(("incident", doc["incident"]))
            person(actor)  # the reporter or resolver credited at closing
        elif kind in ("incident_verified", "satisfaction_rated", "incident_closed"):
            keys.append(("incident", doc["incident"]))
        elif kind == "consultation_held":
            keys.append(("incident", doc["incident"]))
            for who in doc.get("participants") or ():
                person(who)
        elif kind in TASK_KINDS:
            keys.append(("task", doc["task"]))
            person(doc.get("member") or doc.get("assignee"))
    elif plugin == "escalation":
        if kind in INCIDENT_KINDS:
            keys.append(("incident", doc["incident"]))
            if kind == "incident_reported":
                place = f"place:{doc['place']}" if doc.get("place") else f"node:{doc['node']}"
                keys.append(("repeat", doc["category"], place))
            if kind == "repeat_report_joined":
                keys.append(("incident", doc["report"]))
    elif plugin == "assessment":
        if kind in ("incident_reported", "incident_resolved", "incident_closed", "incident_reopened",
                    "repeat_report_joined"):
            keys.append(("incident", doc["incident"]))
            if kind == "repeat_report_joined":
                keys.append(("incident", doc["report"]))
        elif kind in ("resident_registered", "resident_moved"):
            person(doc["person"])
    elif plugin == "tasks" and kind in TASK_KINDS:
        keys.append(("task", doc["task"]))
    return keys


def measure(docs: list[dict[str, Any]], shard_of: list[str], plugins: tuple[str, ...],
            roster: frozenset[str], ignore_actors: bool = False) -> dict[str, Any]:
    """Components of events joined by shared keys of ``plugins``, and the shard groups they force."""
    uf = UnionFind(len(docs))
    first: dict[tuple[str, ...], int] = {}
    bridging: dict[tuple[str, ...], set[str]] = defaultdict(set)  # key -> shards of its events
    for n, doc in enumerate(docs):
        for plugin in plugins:
            for key in keys_of(doc, plugin, roster, ignore_actors):
                bridging[key].add(shard_of[n])
                seen = first.setdefault(key, n)
                if seen != n:
                    uf.union(seen, n)
    sizes: Counter[int] = Counter()
    shards_of: dict[int, set[str]] = defaultdict(set)
    for n in range(len(docs)):
        root = uf.find(n)
        sizes[root] += 1
        shards_of[root].add(shard_of[n])
    # shard groups: shards joined by a component spanning them
    shard_names = sorted(set(shard_of))
    groups = UnionFind(len(shard_names))
    index = {name: n for n, name in enumerate(shard_names)}
    for spanned in shards_of.values():
        spanned_list = sorted(spanned)
        for other in spanned_list[1:]:
            groups.union(index[spanned_list[0]], index[other])
    per_shard = Counter(shard_of)
    group_events: Counter[int] = Counter()
    group_shards: Counter[int] = Counter()
    for name in shard_names:
        root = groups.find(index[name])
        group_events[root] += per_shard[name]
        group_shards[root] += 1
    largest_root = max(sizes, key=lambda root: sizes[root])
    crossing = sum(sizes[root] for root, spanned in shards_of.items() if len(spanned) > 1)
    key_kinds = Counter(key[0] for key, spanned in bridging.items() if len(spanned) > 1)
    biggest_group = max(group_events, key=lambda root: group_events[root])
    return {
        "plugins": list(plugins),
        "events": len(docs),
        "components": len(sizes),
        "largest_component": sizes[largest_root],
        "largest_component_shards": len(shards_of[largest_root]),
        "events_in_crossing_components": crossing,
        "crossing_components": sum(1 for spanned in shards_of.values() if len(spanned) > 1),
        "bridging_keys": dict(key_kinds),
        "shards": len(shard_names),
        "shard_groups": len(group_events),
        "largest_group_shards": group_shards[biggest_group],
        "largest_group_events": group_events[biggest_group],
        "largest_group_share": round(group_events[biggest_group] / len(docs), 3),
    }


def shard_names(docs: list[dict[str, Any]], hierarchy: Any, level: str) -> list[str]:
    """Each event's shard: its node's ancestor at ``level``, else the node itself (above ``level``)."""
    memo: dict[str, str] = {}
    out = []
    for doc in docs:
        node = doc["node"]
        shard = memo.get(node)
        if shard is None:
            if node in hierarchy:
                above = hierarchy.ancestor_at(node, level)
                shard = above.id if above is not None else node
            else:
                shard = f"unknown:{node}"
            memo[node] = shard
        out.append(shard)
    return out


def cross_actors(docs: list[dict[str, Any]], shard_of: list[str]) -> dict[str, int]:
    """People acting, or named, in more than one shard, and the events they act in."""
    acting: dict[str, set[str]] = defaultdict(set)
    named: dict[str, set[str]] = defaultdict(set)
    for doc, shard in zip(docs, shard_of, strict=True):
        acting[doc["actor"]].add(shard)
        for name in ("member", "person", "handler"):
            if doc.get(name):
                named[doc[name]].add(shard)
    many = {who for who, shards in acting.items() if len(shards) > 1}
    return {
        "actors_in_several_shards": len(many),
        "events_by_them": sum(1 for doc in docs if doc["actor"] in many),
        "people_named_in_several_shards": sum(1 for shards in named.values() if len(shards) > 1),
    }


#: Kinds whose person earns or spends points (an activity's member, a reporter or resolver paid at
#: closing, a redemption): a person with such events in two communities would hold two balances if
#: accounts were kept per community.
POINTS_KINDS = frozenset({"activity_recorded", "incident_reported", "incident_resolved", "points_redeemed"})


def people_across(docs: list[dict[str, Any]], hierarchy: Any, roster: frozenset[str]) -> dict[str, Any]:
    """Who acts, or is named, in more than one community (docs/district.md, the decision on accounts).

    An event above the community level (a case at its street or the command centre) counts in the
    community its incident was reported in.  Split into the roster's people (staff) and residents;
    for residents, how many moved between communities; for everyone, how many have points-earning or
    -spending events (``POINTS_KINDS``) in more than one community, by their highest post for staff.
    """
    origin: dict[str, str | None] = {}
    places: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for doc, shard in zip(docs, shard_names(docs, hierarchy, "community"), strict=True):
        node = doc["node"]
        where: str | None = shard if node in hierarchy and hierarchy.ancestor_at(node, "community") else None
        if doc["kind"] == "incident_reported":
            origin[doc["incident"]] = where
        if where is None and doc.get("incident"):
            where = origin.get(doc["incident"])
        if where is None:
            continue
        for name in ("actor", "member", "person", "handler"):
            if doc.get(name):
                places[doc[name]][where].add(doc["kind"])
    several = {who: seen for who, seen in places.items() if len(seen) > 1}
    staff = {who for who in several if who in roster}
    residents = set(several) - staff
    paid = {who for who, seen in several.items() if sum(1 for kinds in seen.values() if kinds & POINTS_KINDS) > 1}
    return {
        "people": len(places), "residents": sum(1 for who in places if who not in roster),
        "in_several_communities": len(several), "staff": len(staff), "residents_in_several": len(residents),
        "residents_who_moved": sum(1 for who in residents if any("resident_moved" in k for k in several[who].values())),
        "earning_or_spending_in_several": {"staff": len(paid & staff), "residents": len(paid & residents)},
        "communities_per_person": dict(sorted(Counter(len(seen) for seen in several.values()).items())),
    }


def components(docs: list[dict[str, Any]], roster: frozenset[str], plugins: tuple[str, ...] = PLUGINS,
               ) -> list[list[int]]:
    """The connected components of ``docs`` (indices, each in file order) under the keys of ``plugins``."""
    uf = UnionFind(len(docs))
    first: dict[tuple[str, ...], int] = {}
    for n, doc in enumerate(docs):
        for plugin in plugins:
            for key in keys_of(doc, plugin, roster, False):
                seen = first.setdefault(key, n)
                if seen != n:
                    uf.union(seen, n)
    found: dict[int, list[int]] = defaultdict(list)
    for n in range(len(docs)):
        found[uf.find(n)].append(n)
    return list(found.values())


def split(docs: list[dict[str, Any]], roster: frozenset[str], count: int) -> list[list[int]]:
    """``count`` key-disjoint shards of ``docs`` (whole components, largest first to the smallest shard)."""
    shards: list[list[int]] = [[] for _ in range(count)]
    for component in sorted(components(docs, roster), key=len, reverse=True):
        min(shards, key=len).extend(component)
    return [sorted(shard) for shard in shards]


def ingest(path: Path, url: str, community_dir: Path, ruleset: Path, days: tuple[datetime, datetime],
           ) -> dict[str, Any]:
    """Ingest ``path`` as ``gridcore ingest`` does (chunks of 20,000 lines), tick to the end; what it gave.

    Returns the CPU seconds of the ingest and tick, the refusals (id -> reasons), every stored event
    (id -> its document as JSON) and every plugin's outcomes ((plugin, subject) -> value, as text).
    """
    from gridcore import Engine, FixedClock
    from gridcore_app.jsonl import bounded_lines, chunks_of_events
    from gridcore_app.rosterio import load_community

    community = load_community(community_dir)
    first, end = days
    refused: dict[str, list[str]] = {}
    started = time.process_time()
    with Engine.open(store=url, community=community, clock=FixedClock(end), ruleset=ruleset,
                     effective=first) as engine, \
            open(path, "rb") as lines:
        for chunk in chunks_of_events(bounded_lines(lines), path.name, 20_000):
            summary = engine.record_many(chunk.docs, batch_size=1000)
            refused.update((refusal.event_id, refusal.reasons) for refusal in summary.refused)
        engine.tick(end)
        cpu = time.process_time() - started
        stored = {event.id: json.dumps(engine.codec.to_dict(event), sort_keys=True, ensure_ascii=False,
                                       default=str) for event in engine.events()}
        outcomes = {f"{o.plugin} {o.subject}": repr(o.value) for o in engine.outcomes()}
    return {"cpu": cpu, "refused": refused, "stored": stored, "outcomes": outcomes}


def _ingest_child(args: tuple[Path, str, Path, Path, tuple[datetime, datetime], Path]) -> float:
    path, url, community_dir, ruleset, days, out = args
    result = ingest(path, url, community_dir, ruleset, days)
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return float(result["cpu"])


def verify_split(docs: list[dict[str, Any]], roster: frozenset[str], community_dir: Path, ruleset: Path,
                 count: int, work: Path) -> dict[str, Any]:
    """Split ``docs`` into ``count`` key-disjoint shards, ingest each and the whole apart, and compare.

    Each ingest runs in a child process of its own, side by side (each CPU time is its own).  The serial ingest's stored events, refusals and outcomes are compared with the union of
    the shards': equal where the key model holds.
    """
    import multiprocessing

    work.mkdir(parents=True, exist_ok=True)
    shards = split(docs, roster, count)
    first, end = _days(docs, community_dir)
    files = [work / "whole.jsonl"] + [work / f"shard-{n}.jsonl" for n in range(count)]
    for path, indices in zip(files, [list(range(len(docs))), *shards], strict=True):
        with open(path, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(docs[n], ensure_ascii=False) + "\n" for n in indices)
    jobs = [(path, _store_url(work / path.stem), community_dir, ruleset, (first, end),
             work / f"{path.stem}.result.json") for path in files]
    here = str(Path(__file__).resolve().parent)
    added = here not in sys.path
    if added:
        sys.path.append(here)  # (a spawned child imports this module again to find _ingest_child)
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_ingest_child, args=(job,)) for job in jobs]
    try:
        for child in children:
            child.start()
    finally:
        if added:
            sys.path.remove(here)
    for child in children:
        child.join()
    failed = [job[0].name for job, child in zip(jobs, children, strict=True) if child.exitcode != 0]
    if failed:
        raise RuntimeError(f"the ingest of {', '.join(failed)} failed (its error is above)")
    results = [json.loads(job[5].read_text(encoding="utf-8")) for job in jobs]
    whole, parts = results[0], results[1:]
    merged: dict[str, dict[str, Any]] = {"refused": {}, "stored": {}, "outcomes": {}}
    clashes: Counter[str] = Counter()
    for part in parts:
        for what, into in merged.items():
            for key, value in part[what].items():
                if key in into and into[key] != value:
                    clashes[what] += 1
                into.setdefault(key, value)
    differ: dict[str, Any] = {}
    for what, b in merged.items():
        a = whole[what]
        only_serial = sorted(set(a) - set(b))
        only_shards = sorted(set(b) - set(a))
        unequal = sorted(k for k in set(a) & set(b) if a[k] != b[k])
        by_plugin = Counter(k.split(" ")[0] for k in [*only_serial, *only_shards, *unequal]) \
            if what == "outcomes" else None
        differ[what] = {"serial": len(a), "shards": len(b), "only_serial": only_serial[:10],
                        "only_serial_count": len(only_serial), "only_shards": only_shards[:10],
                        "only_shards_count": len(only_shards), "unequal": unequal[:10],
                        "unequal_count": len(unequal), "clashes_between_shards": clashes[what],
                        **({"by_plugin": dict(by_plugin)} if by_plugin is not None else {})}
    kinds = {doc["id"]: doc["kind"] for doc in docs}
    reasons = Counter((kinds.get(ident, "?"), _reason_class(why[0])) for ident, why in whole["refused"].items())
    derived = Counter(doc["kind"] for doc in map(json.loads, whole["stored"].values()) if doc["actor"] == "system")
    return {"shards": [len(s) for s in shards], "largest_component": max(map(len, components(docs, roster))),
            "cpu_serial": round(whole["cpu"], 1), "cpu_shards": [round(p["cpu"], 1) for p in parts],
            "differences": differ,
            "refusals": {f"{kind} ({'+'.join(JUDGES.get(kind, ('core',)))} judges; "
                         f"{'+'.join(REACTS.get(kind, ())) or 'no plugin'} reacts): {reason}": n
                         for (kind, reason), n in reasons.most_common()},
            "derived": {f"{kind} ({'+'.join(REACTS.get(kind, ())) or 'no plugin'} reacts)": n
                        for kind, n in derived.most_common()}}


def _days(docs: list[dict[str, Any]], community_dir: Path) -> tuple[datetime, datetime]:
    """Midnight of the first event's local day, and of the day after the last event's."""
    from gridcore_app.rosterio import load_community

    zone = load_community(community_dir).tz
    times = [datetime.fromisoformat(doc["time"]).astimezone(zone) for doc in (docs[0], docs[-1])]
    first = datetime.combine(times[0].date(), datetime.min.time(), tzinfo=zone)
    return first, datetime.combine(times[1].date(), datetime.min.time(), tzinfo=zone) + timedelta(days=1)


def _store_url(folder: Path) -> str:
    """A fresh SQLite store in ``folder`` (what is compared does not depend on the backend)."""
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'store.sqlite'}"


def _reason_class(reason: str) -> str:
    """A refusal's reason without its names and numbers (to count them by class)."""
    words = reason.split(":")[0].split()
    return " ".join(word for word in words[:10] if not any(ch.isdigit() for ch in word) and "-" not in word)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--community", type=Path, default=YINZHOU)
    parser.add_argument("--ruleset", type=Path, default=YINZHOU / "yinzhou.rules")
    parser.add_argument("--json", type=Path, help="also write the findings here")
    parser.add_argument("--model", action="store_true", help="print the key model and exit")
    parser.add_argument("--verify-split", type=int, metavar="K", help="split into K key-disjoint shards, "
                        "ingest each and the whole apart (child processes), compare (see verify_split)")
    parser.add_argument("--no-measure", action="store_true", help="skip the components (with --verify-split)")
    parser.add_argument("--work", type=Path, default=Path("coupling-work"), help="folder for --verify-split")
    args = parser.parse_args(argv)
    if args.model or not args.files:
        for plugin, keys in KEYS.items():
            print(f"{plugin:<11} {keys}")
        return 0
    from gridcore_app.rosterio import load_community

    community = load_community(args.community)
    hierarchy = community.hierarchy
    roster = frozenset(community.members)
    started = time.process_time()
    docs = list(read_events(args.files))
    docs.sort(key=lambda doc: (datetime.fromisoformat(doc["time"]), doc["id"]))
    findings: dict[str, Any] = {"files": [str(p) for p in args.files], "events": len(docs),
                                "kinds": dict(Counter(doc["kind"] for doc in docs).most_common())}
    for level in () if args.no_measure else ("community", "street"):
        shard_of = shard_names(docs, hierarchy, level)
        per_level: dict[str, Any] = {"cross_actors": cross_actors(docs, shard_of),
                                     "above_level_events": sum(
                                         1 for doc, s in zip(docs, shard_of, strict=True) if s == doc["node"]
                                         and hierarchy.node(doc["node"]).level != level)}
        for label, plugins in (("core", ("core",)), ("points", ("core", "points")),
                               ("escalation", ("core", "escalation")), ("assessment", ("core", "assessment")),
                               ("all", PLUGINS)):
            per_level[label] = measure(docs, shard_of, plugins, roster)
        per_level["all, staff actors left out"] = measure(docs, shard_of, PLUGINS, roster, ignore_actors=True)
        findings[f"by {level}"] = per_level
    findings["people across communities"] = people_across(docs, hierarchy, roster)
    findings["growth"] = growth(docs, roster)
    findings["seconds"] = round(time.process_time() - started, 1)
    if args.verify_split:
        findings["verify_split"] = verify_split(docs, roster, args.community, args.ruleset, args.verify_split,
                                                  args.work)
    text = json.dumps(findings, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
