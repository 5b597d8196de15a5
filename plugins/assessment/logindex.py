"""Slices of the event log, indexed by node, read once per assessment.

Rating every grid of a district asks the same questions of the same period
again and again (which patrols, which residents, which open incidents).  Each
answer here is computed once for the whole hierarchy, indexed by node, and
kept on the engine's assessment state until the store grows; a metric for one
node then only walks that node's subtree.  Without an attached state (a bare
engine) nothing is kept and every call reads the store afresh.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar

from gridcore.errors import GridcoreError
from gridcore.events import ActivityRecorded, PatrolLogged, ResidentMoved, ResidentRegistered
from gridcore.periods import period_containing, period_key
from gridcore.register import HouseholdRegister
from gridcore_escalation.events import (
    IncidentClosed,
    IncidentReopened,
    IncidentReported,
    IncidentResolved,
    RepeatReportJoined,
)

if TYPE_CHECKING:
    from gridcore import Engine

T = TypeVar("T")


def node_id(node: Any) -> str:
    """A node's id, whether the hierarchy hands out ``Node`` objects or ids."""
    return node if isinstance(node, str) else str(node.id)


def subtree(engine: Engine, root: str) -> list[str]:
    """``root`` and every node below it."""
    return [node_id(n) for n in engine.community.hierarchy.descendants(root, include_self=True)]


#: The most results ``memo`` keeps between two growths of the store. A rating is kept under the
#: clock's time, so a service with a system clock that is asked again and again while no event
#: arrives (a wall screen) would otherwise keep one more rating at every request. One district
#: assessment keeps a few dozen; twelve months of them a few hundred.
MEMO_MAX = 1024


def memo(engine: Engine, key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """``build()``, kept under ``key`` until the store grows (or computed afresh without a state).

    At most ``MEMO_MAX`` results are kept: past that, the oldest kept goes first.
    """
    cache = _cache(engine)
    if cache is None:
        return build()
    if key not in cache:
        value = build()
        while len(cache) > MEMO_MAX:  # the first key is "store size", kept: the oldest result after it goes
            del cache[next(k for k in cache if k != "store size")]
        cache[key] = value
        return value
    return cache[key]  # type: ignore[no-any-return]


def events(engine: Engine, kinds: Iterable[str], start: datetime | None, end: datetime) -> list[Any]:
    """Stored events of ``kinds`` in ``[start, end)`` (``start`` None: from the beginning)."""
    kinds = tuple(kinds)
    return memo(engine, ("events", kinds, start, end), lambda: list(counted(engine, kinds, start, end)))


def counted(engine: Engine, kinds: tuple[str, ...], start: datetime | None, end: datetime) -> Iterable[Any]:
    """The stored events of ``kinds`` in ``[start, end)`` that count: those a plugin judged refused in time
    order on replay after a late event (``gridcore_on_event_ignored``, kept by the state) left out, as the
    same events recorded in time order would give."""
    found = engine.events(kinds=kinds, since=start, until=end)
    ignored = _ignored(engine)
    return found if not ignored else (e for e in found if e.id not in ignored)


def _ignored(engine: Engine) -> set[str]:
    """The ids of the stored events ignored on replay (empty without an attached state)."""
    try:
        state = engine.state("assessment")
    except GridcoreError:
        return set()
    ignored = getattr(state, "ignored", None)
    return ignored if isinstance(ignored, set) else set()


def cell_of(engine: Engine, node: str, level: str | None) -> str | None:
    """The cell a patrol logged at ``node`` counts for: its node at ``level`` or its cell."""
    hierarchy = engine.community.hierarchy
    if level is not None:
        found = hierarchy.ancestor_at(node, level)
        return None if found is None else node_id(found)
    for candidate in hierarchy.ancestors(node, include_self=True):
        if hierarchy.is_cell(node_id(candidate)):
            return node_id(candidate)
    return None


def patrol_tally(engine: Engine, start: datetime, end: datetime, per: str, level: str | None) -> Counter[tuple[str, str]]:
    """Patrols per ``(cell, slot label)`` in ``[start, end)``, slots of kind ``per``.

    From the state's patrols per day and node when it reflects the stored
    events and the period is whole days (every period is: slots are days,
    weeks, months ...); else from the patrol events of the log.
    """

    def build() -> Counter[tuple[str, str]]:
        tz = engine.community.tz
        tally: Counter[tuple[str, str]] = Counter()
        days = _days(engine, "patrols", start, end)
        if days is not None:
            cells: dict[str, str | None] = {}
            for day, counts in days:
                slot = period_key(per, datetime(day.year, day.month, day.day, tzinfo=tz), tz)
                for node, count in counts.items():
                    if node not in cells:
                        cells[node] = cell_of(engine, node, level)
                    cell = cells[node]
                    if cell is not None:
                        tally[(cell, slot)] += count
            return tally
        for event in events(engine, ["patrol_logged"], start, end):
            assert isinstance(event, PatrolLogged)
            cell = cell_of(engine, event.node, level)
            if cell is not None:
                tally[(cell, period_containing(per, event.time, tz).label)] += 1
        return tally

    return memo(engine, ("patrols", start, end, per, level), build)


def _days(engine: Engine, kept: str, start: datetime, end: datetime) -> list[tuple[date, Any]] | None:
    """What the state keeps per local day under ``kept`` (``patrols``, ``participants``) for each day in
    ``[start, end)`` that has any, or None when the state cannot answer (no state, one behind the
    store, a bound that is not a local midnight, or days older than the state keeps)."""
    state = _current_state(engine)
    per_day = getattr(state, kept, None)
    if not isinstance(per_day, dict):
        return None
    tz = engine.community.tz
    first, last = _local_day(start, tz), _local_day(end, tz)
    if first is None or last is None:
        return None
    kept_from = getattr(state, "kept_from", None)
    if kept_from is not None and first < kept_from:
        return None  # days the state no longer keeps (``state.KEPT_DAYS``)
    kept_days = getattr(state, "kept_days", None)
    if kept_days is not None:  # (the days of the months sealed in the store read back)
        found: list[tuple[date, Any]] = kept_days(kept, first, last)
        return found
    out: list[tuple[date, Any]] = []
    day = first
    while day < last:
        if day in per_day:
            out.append((day, per_day[day]))
        day += timedelta(days=1)
    return out


def _local_day(when: datetime, tz: tzinfo) -> date | None:
    """The local day ``when`` is the midnight of (None: it is not a local midnight)."""
    day = when.astimezone(tz).date()
    return day if datetime(day.year, day.month, day.day, tzinfo=tz) == when else None


def _current_state(engine: Engine) -> Any:
    """The engine's assessment state when it reflects exactly the stored events, else None."""
    try:
        state = engine.state("assessment")
    except GridcoreError:
        return None
    return state if engine.position == engine.stored_position() else None


def _after_every_event(engine: Engine, end: datetime) -> Any:
    """The engine's assessment state when it reflects exactly the stored events and every one of
    them is before ``end``, else None."""
    state = _current_state(engine)
    last = getattr(state, "last", None)
    return state if state is not None and (last is None or last < end) else None


def population(engine: Engine, end: datetime) -> dict[str, tuple[str, str]]:
    """Registered residents as they stood at ``end``: person -> (node, name).

    For an end after every event (the current period) the state's registered
    residents answer it; an earlier ``end`` reads the registrations and moves
    of the log up to it (every one since the first: a district's years of them).
    """

    def build() -> dict[str, tuple[str, str]]:
        state = _after_every_event(engine, end)
        kept = getattr(state, "registered", None)
        if isinstance(kept, dict):
            return dict(kept)
        people: dict[str, tuple[str, str]] = {}
        for event in events(engine, ["resident_registered", "resident_moved"], None, end):
            if isinstance(event, ResidentRegistered):
                people[event.person] = (event.node, event.name)
            elif isinstance(event, ResidentMoved) and event.person in people:
                people[event.person] = (event.node, people[event.person][1])
        return people

    return memo(engine, ("population", end), build)


#: The kinds that change the household register (gridcore.register).
HOUSEHOLD_KINDS = ("household_moved_in", "household_moved_out", "household_split",
                   "resident_registered", "resident_moved")


def households_at(engine: Engine, end: datetime) -> HouseholdRegister:
    """The household register as it stood at ``end``: the roster, then the events before ``end``.

    For an end after every event (the current period) that is the engine's own
    register (``engine.households``, built from the same events in the same
    order): only an earlier ``end`` reads the log, from its first event.
    """

    def build() -> HouseholdRegister:
        if _after_every_event(engine, end) is not None:
            return engine.households
        register = HouseholdRegister(engine.community)
        for event in events(engine, HOUSEHOLD_KINDS, None, end):
            register.apply(event)
        return register

    return memo(engine, ("households", end), build)


def visited(engine: Engine, start: datetime, end: datetime) -> set[str]:
    """The households visited at home (``household_visited``) in ``[start, end)``."""
    return memo(engine, ("visited", start, end),
                lambda: {event.household for event in events(engine, ["household_visited"], start, end)})


def visits_by(engine: Engine, start: datetime, end: datetime) -> set[tuple[str, str]]:
    """(who visited, household) for every home visit (``household_visited``) in ``[start, end)``."""
    return memo(engine, ("visits by", start, end),
                lambda: {(event.actor, event.household)
                         for event in events(engine, ["household_visited"], start, end)})


def registrations_by_node(engine: Engine, end: datetime) -> dict[str, list[tuple[str, str]]]:
    """Registered residents at ``end`` by the node they live in: node -> [(person, name)]."""

    def build() -> dict[str, list[tuple[str, str]]]:
        index: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for person, (node, name) in population(engine, end).items():
            index[node].append((person, name))
        return dict(index)

    return memo(engine, ("registrations", end), build)


def residents_by_node(engine: Engine, end: datetime) -> dict[str, set[str]]:
    """Everyone living at each node at ``end``: the registered, and roster members by their home."""

    def build() -> dict[str, set[str]]:
        index: dict[str, set[str]] = defaultdict(set)
        for node, people in registrations_by_node(engine, end).items():
            index[node].update(person for person, _ in people)
        for member in engine.community.members.values():
            if member.home:
                index[member.home].add(member.id)
        return dict(index)

    return memo(engine, ("residents", end), build)


def participants(engine: Engine, start: datetime, end: datetime) -> set[str]:
    """Everyone who took part in an activity in ``[start, end)``."""

    def build() -> set[str]:
        days = _days(engine, "participants", start, end)
        if days is not None:  # the state's participants per day (see ``patrol_tally``)
            return set().union(*(people for _, people in days))
        found = set()
        for event in events(engine, ["activity_recorded"], start, end):
            assert isinstance(event, ActivityRecorded)
            found.add(event.participant)
        return found

    return memo(engine, ("participants", start, end), build)


def open_serious(engine: Engine, end: datetime, threshold: int) -> dict[str, list[str]]:
    """Incidents of severity >= ``threshold`` still open at ``end``, by the node they were reported at.

    A repeat report that joined an incident (``repeat_report_joined``) is no incident of its own: it
    is open exactly while the incident it joined is, and counts through it, whose severity is the
    highest of its reports.  When ``end`` is after every event (the current period), the state's
    incidents not resolved answer it; an earlier ``end`` reads the incident events of the log up to it,
    continuing the latest scan kept for an earlier end (``_incidents_at``): the ends of a year's quarters
    read each day's incident events once, not once per quarter after it.
    """

    def from_state() -> dict[str, list[str]] | None:
        try:
            state = engine.state("assessment")
        except GridcoreError:
            return None
        unresolved = getattr(state, "unresolved", None)
        last = getattr(state, "last", None)
        # (the state reflects exactly the stored events up to the engine's position)
        if not isinstance(unresolved, dict) or (last is not None and last >= end) \
                or engine.position != engine.stored_position():
            return None
        index: dict[str, list[str]] = defaultdict(list)
        for incident, (node, severity) in sorted(unresolved.items()):
            if severity >= threshold:
                index[node].append(incident)
        return dict(index)

    def build() -> dict[str, list[str]]:
        found = from_state()
        if found is not None:
            return found
        scan = _incidents_at(engine, end)
        index: dict[str, list[str]] = defaultdict(list)
        for incident in sorted(scan.open_now):
            node, severity = scan.where[incident]
            if severity >= threshold:
                index[node].append(incident)
        return dict(index)

    return memo(engine, ("open serious", end, threshold), build)


#: The incident events that change which incidents are open (``open_serious``).
INCIDENT_KINDS = ("incident_reported", "repeat_report_joined", "incident_resolved", "incident_closed",
                  "incident_reopened")


class _IncidentScan:
    """The incidents of the log's incident events before ``end``: where each stands and which are open.

    ``where``: incident -> (node it was reported at, severity: the highest of its reports), every
    report whatever its severity (a serious repeat report raises its incident's); ``open_now``: the
    incidents open at ``end``.  A repeat report that joined an incident is in neither.
    """

    __slots__ = ("end", "open_now", "where")

    def __init__(self, end: datetime | None = None, where: dict[str, tuple[str, int]] | None = None,
                 open_now: set[str] | None = None) -> None:
        self.end = end
        self.where: dict[str, tuple[str, int]] = {} if where is None else where
        self.open_now: set[str] = set() if open_now is None else open_now

    def copy(self) -> _IncidentScan:
        return _IncidentScan(self.end, dict(self.where), set(self.open_now))

    def advance(self, engine: Engine, end: datetime) -> None:
        """Read the incident events in ``[self.end, end)`` (from the first without ``self.end``).

        The log is in canonical order (time, then id) and a slice is ``since <= time < until``, so
        the events before ``b`` are those before ``a`` then those in ``[a, b)``, in the same order:
        continuing a scan gives exactly what reading from the first event gives.
        """
        where, open_now = self.where, self.open_now
        for event in counted(engine, INCIDENT_KINDS, self.end, end):
            if isinstance(event, IncidentReported):
                where[event.incident] = (event.node, event.severity)
                open_now.add(event.incident)
            elif isinstance(event, RepeatReportJoined):
                open_now.discard(event.report)
                where.pop(event.report, None)
                if event.incident in where:
                    node, severity = where[event.incident]
                    where[event.incident] = (node, max(severity, event.severity))
            elif isinstance(event, (IncidentResolved, IncidentClosed)):
                open_now.discard(event.incident)
            elif isinstance(event, IncidentReopened) and event.incident in where:
                open_now.add(event.incident)
        self.end = end


def _incidents_at(engine: Engine, end: datetime) -> _IncidentScan:
    """The incident scan of the log before ``end``.

    With a cache the scans made are kept (until the store grows) and a new ``end``
    continues from the latest kept one before it: the quarters of a year read the
    first quarter's events once, not three times.  Without one the log is read
    from its first event.
    """
    cache = _cache(engine)
    if cache is None:
        scan = _IncidentScan()
        scan.advance(engine, end)
        return scan
    scans: dict[datetime, _IncidentScan] = cache.setdefault("incident scans", {})
    if end in scans:
        return scans[end]
    before = [kept for kept in scans if kept < end]
    scan = scans[max(before)].copy() if before else _IncidentScan()
    scan.advance(engine, end)
    scans[end] = scan
    return scan


def _cache(engine: Engine) -> dict[Any, Any] | None:
    try:
        state = engine.state("assessment")
    except GridcoreError:
        return None
    cache = getattr(state, "cache", None)
    if not isinstance(cache, dict):
        return None
    # the log position (the last event's, read from an index) changes whenever the store grows;
    # counting the events would scan the whole table for every memo lookup.  Asked once per read
    # (``Engine.stored_position``): a metric, a report, a roll-up
    size = engine.stored_position()
    if cache.get("store size") != size:
        cache.clear()
        cache["store size"] = size
    return cache
