"""What the escalation state holds: the open incidents, what was reported where, what falls due.

``Records`` is the base of ``EscalationState`` (state.py): the data, and the
scheduling every step shares.  Intake (intake.py), refusals (lifecycle.py) and
transitions (transitions.py) are the state's own methods, mixed in over it.

Only incidents not yet closed are kept in memory (``incidents``); a closed
one goes to the archive (archive.py: in the store, read when asked for) with
what was decided for it.  ``find``, ``primary_of``, ``decision`` and
``escalation`` look in both; ``every``, ``reported_between`` and
``active_between`` give the incidents a read needs, open and closed.
"""

from __future__ import annotations

import bisect
import heapq
import operator
from collections import OrderedDict, defaultdict, deque
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import TYPE_CHECKING, Any

from gridcore import Explanation
from gridcore.codec import time_text
from gridcore.fastjson import plain
from gridcore.parts import stored_documents, stored_part, stored_parts

from . import timers
from .archive import COLLECTION, EVENT, NAMES, Archive, entry_names
from .events import RepeatReportJoined
from .incident import CLOSED, Incident
from .policy import EscalationPolicy

if TYPE_CHECKING:
    from gridcore import Engine
    from gridcore.events import Event


def level_policy(engine: Engine, incident: Incident) -> EscalationPolicy | None:
    """The escalation policy of the ruleset governing the incident's current node, as in force when
    it was reported (None where that is the incident's own: its ``limits`` are its ``policy``)."""
    if not incident.current_node or incident.current_node == incident.node:
        return None
    from .intake import policy_at

    found, _ = policy_at(engine, incident.reported_at, incident.current_node)
    return None if found is incident.policy else found


_VERSION = operator.attrgetter("version")

#: The checkpoint module, once ``_checkpoint_module`` imported it.
_CHECKPOINT: ModuleType | None = None


def _checkpoint_module() -> ModuleType:
    """The checkpoint module (checkpoint.py), imported when first needed, not with this module: its writers
    and readers are generated as it is imported, and a command that reads a checkpoint and shows a report
    neither closes nor takes out an incident.  Kept once imported: an import statement run on every closing
    went through the import system each time (``from . import``: about 5 us)."""
    global _CHECKPOINT
    if _CHECKPOINT is None:
        from . import checkpoint

        _CHECKPOINT = checkpoint
    return _CHECKPOINT


#: Closed incidents kept decoded after a read (the least recently read go first).
DECODED = 4_000
#: Incidents kept as they were archived after closing (``Records._closed``): in a busy district's month
#: 99% of the events reaching a closed incident (ratings) came within 250 closings of its own.
RECENTLY_CLOSED = 256
#: Deadlines' times kept converted to the ticks' zone (``Records._zoned``) before they are all forgotten.
ZONED = 4_096
#: Stale entries the heap of what falls due may hold beyond two per open incident before it is rebuilt.
STALE = 4_096


class Records:
    """The open incidents of one engine (the closed ones are archived) and what rules read of earlier reports."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: when the cases last changed for each period (``gridcore_period_stamp``, state.py)
        self.stamps = engine.period_stamps("escalation")
        self.incidents: dict[str, Incident] = {}
        #: the stored events this state was given through ``gridcore_on_event_ignored`` (since it was built:
        #: not in checkpoints), each with the hook's reasons (every plugin's, English then Chinese): what
        #: the command line says a late event made ignored (``commands._now_ignored``)
        self.ignored_now: dict[str, tuple[Event, list[str]]] = {}
        #: repeat report id -> the open incident it joined
        self.aliases: dict[str, str] = {}
        #: the ``repeat_report_joined`` events decided and not yet applied, by event id (intake.py)
        self.joins_due: dict[str, RepeatReportJoined] = {}
        #: the report and id of the join applied last (named by a stored join of the same report ignored just
        #: after it; not checkpointed: both are due at the same instant, applied in one go)
        self.joined_as: tuple[str, str] = ("", "")
        #: (category, place key) -> times of the reports there a repeat rule can still count: those within
        #: the longest window of any repeat rule (``repeat_window``) of the latest report there, and only
        #: for the places with a report within that window of the latest report anywhere
        self.reports_at: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        #: (time, key) of the reports counted, oldest first, for dropping the places whose latest report
        #: no repeat rule can count any more (None: to be worked out again from ``reports_at``)
        self._report_order: deque[tuple[datetime, tuple[str, str]]] | None = None
        #: the window ``reports_at`` is cut to, with the number of rulesets it was worked out from
        self._window: tuple[int, timedelta] | None = None
        #: (category, place key) -> ids of the incidents reported there
        self.at_place: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.escalation_index: dict[str, tuple[str, int]] = {}
        #: explanations decided when an event was applied (joins, reopenings)
        self.decisions: dict[str, Explanation] = {}
        self.due: dict[str, timers.Due | None] = {}
        self._heap: list[tuple[datetime, str, int]] = []
        #: open incident id -> the entry of ``_heap`` that stands for what falls due for it (``current``),
        #: while something does: a step that leaves the time as it was keeps it rather than pushing another
        self._queued: dict[str, tuple[datetime, str, int]] = {}
        #: the fixed-offset zone of the times ticks are given (the events' own, ``gridcore.codec``):
        #: heap entries are put in it, so that a tick compares them field by field (times in two
        #: different tzinfo objects compare by asking each for its offset, several times slower)
        self._zone: timezone | None = None
        #: deadlines' times in ``_zone``, by the time object's ``id`` (held beside it, so no other object has
        #: that ``id`` while it is kept), with the zone they were put in (``schedule``; emptied when full)
        self._zoned: dict[int, tuple[datetime, timezone, datetime]] = {}
        #: open incident id -> what its deadlines were worked out from, and them (``running``)
        #: (and each deadline with what it was worked out from, for the next working-out)
        self._clocks: dict[str, tuple[tuple[Any, ...], list[timers.Deadline], list[timers.Worked]]] = {}
        #: the limits policies gave for the cases' categories, levels, departments and handlers' roles
        self._known = timers.Known()
        #: open incident id -> its document as the last checkpoint wrote it, until an event changes it
        #: (``changed``): a checkpoint dumps only the incidents changed since the one before
        self.dumped: dict[str, dict[str, Any]] = {}
        #: closed incidents (in the store but for the newest)
        self.archive = Archive(self.load_part, self.load_names, self.load_many_names, self.load_parts)
        self._decoded: OrderedDict[tuple[int, int], Incident] = OrderedDict()
        #: the closed incident ``find`` decoded last, with where its entry is: an event judged on it is
        #: taken out with it (``take_out``), and one refused leaves only it, not an entry of ``_decoded``
        #: for each (a resident's second rating ...: about 130 a million events, 4.8 KB each, for good)
        self._judged: tuple[tuple[int, int], Incident] | None = None
        #: the incidents closed last (``RECENTLY_CLOSED``), by where their entry is, as they were
        #: archived (``close_out``): ``find`` and ``take_out`` give them rather than decoding the entry; each
        #: with its document as written there (``_dump_incident``)
        self._closed: OrderedDict[tuple[int, int], tuple[Incident, dict[str, Any]]] = OrderedDict()
        #: the incident ``take_out`` gave last from ``_closed``, with its document as archived (``rated``)
        self._taken: tuple[Incident, dict[str, Any]] | None = None
        #: the last ``active_between`` read: its span, the ``stamp`` it was read at, its incidents
        self._spanned: tuple[datetime, datetime, tuple[int, int], list[Incident]] | None = None

    def changed(self, ident: str) -> None:
        """Incident ``ident`` was changed (or opened, or closed): its document is to be dumped again."""
        self.dumped.pop(ident, None)

    def arrived_at_node(self, incident: Incident) -> None:
        """The case is now at ``current_node``: the limits there are those of the ruleset governing
        that node (a case climbing out of a community to its street is held to the street's limits),
        as in force when it was reported."""
        incident.level_policy = level_policy(self.engine, incident)

    def schedule(self, incident: Incident) -> None:
        """Work out what falls due next for ``incident`` (its entry in the heap, ``_queued``: the others are stale).

        Its deadlines are worked out again only when what they depend on changed (``running``).
        """
        community = self.engine.community
        due = timers.next_due(community, incident, community.tz, self.running)
        self.due[incident.id] = due
        if due is None:
            self._queued.pop(incident.id, None)
            return
        when = due.time
        zone = self._zone
        if zone is not None and when.tzinfo is not zone:
            # (a deadline kept while its inputs do not change is scheduled again after every event on its
            # case: its time in the ticks' zone is kept by object, not converted each time)
            kept = self._zoned.get(id(when))
            if kept is not None and kept[0] is when and kept[1] is zone:
                when = kept[2]
            else:
                if len(self._zoned) >= ZONED:
                    self._zoned.clear()
                self._zoned[id(when)] = (when, zone, converted := when.astimezone(zone))
                when = converted
        queued = self._queued.get(incident.id)
        if queued is not None and (queued[0] is when or (
                queued[0] == when and queued[0].tzinfo is when.tzinfo and queued[0].fold == when.fold)):
            # (the same time in the same zone, field for field: most steps leave it, and a new entry would
            # leave this one stale in the heap, to be popped at a tick; this one stands for the due just made)
            return
        heap = self._heap
        entry = (when, incident.id, incident.version)
        self._queued[incident.id] = entry
        heapq.heappush(heap, entry)
        if len(heap) > 2 * len(self.incidents) + STALE:
            # most entries are stale (an entry per event on a case, a closed case's until its time
            # passes): keep what is current, so the heap holds about one entry per open incident
            heap[:] = [entry for entry in heap if self.current(entry)]
            heapq.heapify(heap)

    def running(self, incident: Incident) -> list[timers.Deadline]:
        """The incident's running deadlines (``timers.deadlines``), worked out again only when what they
        are worked out from changed (``timers.clock_inputs``): working time is counted once per clock."""
        tz = self.engine.community.tz
        inputs = timers.clock_inputs(incident, tz)
        if inputs is None:
            self._clocks.pop(incident.id, None)
            return []
        kept = self._clocks.get(incident.id)
        if kept is not None and kept[0] == inputs:
            return kept[1]
        made: list[timers.Worked] = []
        found = timers.deadlines(incident, tz, kept[2] if kept is not None else (), made, self._known)
        self._clocks[incident.id] = (inputs, found, made)
        return found

    def current(self, entry: tuple[datetime, str, int]) -> bool:
        """True if a heap entry is still what falls due for its incident (the one ``schedule`` made or kept
        last for it, while it is open and something falls due for it)."""
        ident = entry[1]
        return self._queued.get(ident) is entry and ident in self.incidents and self.due.get(ident) is not None

    # ------------------------------------------------------------ reports for repeat rules

    def repeat_window(self) -> timedelta:
        """The longest window of any repeat rule of any ruleset put in force (zero if none).

        Rulesets are only ever added to an engine (a change back in time
        rebuilds the state), so their number says whether it must be worked out again.
        """
        rulesets = self.engine.rulesets_in_force()
        if self._window is not None and self._window[0] == len(rulesets):
            return self._window[1]
        from .section import SECTION

        window = max((rule.window for entry in rulesets for span in entry.ruleset.policies(SECTION)
                      for rule in span.policy.repeats), default=timedelta(0))
        if self._window is not None and window > self._window[1]:
            # a ruleset with a longer window than any before was put in force while this state was
            # kept (not rebuilt): the older times it reaches are read back from the incidents, open
            # and closed (the whole history, once)
            self.reports_at = self._report_times(window)
            self._report_order = None
        self._window = (len(rulesets), window)
        return window

    def count_report(self, key: tuple[str, str], when: datetime) -> None:
        """A report at ``key`` at ``when`` (reports come in time order): keep it, drop those no repeat
        rule can count any more (older than the longest window before it).

        A place whose latest report is older than that is dropped whole, whether or not it is
        reported at again: a district reports at tens of thousands of places a year, and without
        a repeat rule (a window of zero) every one of them was kept, with its latest time, for ever.
        A later report is never earlier than ``when``, so it can count none of them.
        """
        oldest = when - self.repeat_window()  # (first: a longer window reads the older times back)
        times = self.reports_at[key]
        times.append(when)
        if times[0] < oldest:
            del times[:bisect.bisect_left(times, oldest)]
        order = self._report_order
        if order is None:  # (restored from a checkpoint, or read back for a longer window)
            order = self._report_order = deque(sorted(
                (kept[-1], place) for place, kept in self.reports_at.items() if kept and place != key))
        order.append((when, key))
        while order[0][0] < oldest:
            _, place = order.popleft()
            kept = self.reports_at.get(place)
            if kept is not None and kept[-1] < oldest:  # (else reported at since: a later entry follows)
                del self.reports_at[place]

    def _report_times(self, window: timedelta) -> dict[tuple[str, str], list[datetime]]:
        """``reports_at`` for ``window``, from every incident's report and repeat reports (the whole history)."""
        found: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        for incident in self.incidents.values():
            found[(incident.category, incident.place_key)].extend(
                [incident.reported_at, *(when for _, when, _ in incident.repeats)])
        for _, entry in self.archive.current():
            doc = entry["incident"]
            key = (str(doc["category"]), f"place:{doc['place']}" if doc["place"] else f"node:{doc['node']}")
            found[key].extend(datetime.fromisoformat(when) for when in
                              [doc["reported_at"], *(repeat[1] for repeat in doc["repeats"])])
        for key, times in found.items():
            times.sort()
            del times[:bisect.bisect_left(times, times[-1] - window)]
        return found

    # ------------------------------------------------------------ closed incidents

    def load_part(self, key: str) -> dict[str, Any] | str | None:
        """A sealed part of the archive, from the store (its text where the store gives it)."""
        return stored_part(self.engine.store, COLLECTION, key)

    def load_parts(self, keys: Sequence[str]) -> Mapping[str, dict[str, Any] | str]:
        """Sealed parts of the archive, from the store at once (``stored_parts``), by key."""
        return stored_parts(self.engine.store, COLLECTION, keys)

    def load_names(self, name: str) -> dict[str, Any] | None:
        """Which sealed parts of the archive hold an entry answering to ``name``, from the store."""
        return self.engine.store.get(NAMES, name)

    def load_many_names(self, names: Sequence[str]) -> Mapping[str, dict[str, Any]]:
        """Which sealed parts of the archive hold an entry answering to each of ``names``, from the store at once (those with a document, by name)."""
        return stored_documents(self.engine.store, NAMES, names)

    def close_out(self, incident: Incident, written: dict[str, Any] | None = None) -> None:
        """``incident`` is closed: archive it with what was decided for it, and forget it.

        ``written``: its document as archived before, which only a rating changed since (``rated``): written
        again from it (``checkpoint.dump_rated``), not field by field.
        """
        _checkpoint = _checkpoint_module()
        dump_explanation = _checkpoint.dump_explanation
        # (its events that had an explanation decided, in their order: most cases had none, and
        # ``decisions`` holds only those of open cases)
        held = self.decisions
        events = sorted({entry.event for entry in incident.timeline if entry.event in held}) if held else ()
        decisions = {ident: dump_explanation(held.pop(ident)) for ident in events}
        escalations = {}
        for number, step in enumerate(incident.escalations):
            if self.escalation_index.get(step.event) == (incident.id, number):
                escalations[step.event] = self.escalation_index.pop(step.event)[1]
        for ident, _, _ in incident.repeats:
            if self.aliases.get(ident) == incident.id:
                del self.aliases[ident]
        key = (incident.category, incident.place_key)
        here = self.at_place.get(key)
        if here is not None and incident.id in here:
            here.remove(incident.id)
            if not here:
                del self.at_place[key]
        del self.incidents[incident.id]
        self.changed(incident.id)
        self.due.pop(incident.id, None)
        self._queued.pop(incident.id, None)
        self._clocks.pop(incident.id, None)
        times = [entry.time for entry in incident.timeline]
        if incident.closed_at is not None:
            times.append(incident.closed_at)
        last = max(times, default=incident.reported_at)
        dumped = _checkpoint._dump_incident(incident) if written is None else _checkpoint.dump_rated(incident, written)
        # (typed: the incident's document by its fields' types, but for what a hook wrote, walked; the
        # explanations walked; the escalations' numbers and the time's text by theirs)
        entry = {"incident": dumped, "decisions": decisions, "escalations": escalations, "last": time_text(last)}
        where = self.archive.add_closed(
            entry, typed=_checkpoint.typed_dump(dumped) and (not decisions or plain(decisions)))
        # The incident itself stands for the entry just written (where ``find`` now finds its id), as
        # ``_decode`` would read it back (the document reads back the same, type for type): an event
        # reaching it closed (a resident's rating, most within a few hundred closings) is judged on it
        # and takes it out (``find``, ``take_out``) without decoding it.
        closed = self._closed
        closed[where] = (incident, dumped)
        if len(closed) > RECENTLY_CLOSED:
            closed.popitem(last=False)

    def take_out(self, ident: str) -> Incident | None:
        """The archived incident ``ident`` back among the open ones (an event is applied to it); None if none.

        Call ``put_back`` once the event is applied.
        """
        load_explanation = _checkpoint_module().load_explanation
        found = self._archived(ident)
        if found is None:
            return None
        where, entry = found
        # The event was judged on this entry's decoded incident just before (``find``): it is taken
        # out of the reads' cache and changed, rather than decoded a second time (the entry is
        # superseded once the incident is put back, so no later read can be given it).
        judged = self._judged
        if judged is not None and judged[0] == where:
            self._judged = None
            incident = judged[1]
        else:
            kept = self._decoded.pop(where, None)
            if kept is None:
                closed = self._closed.pop(where, None)
                if closed is not None:
                    kept = closed[0]
                    self._taken = closed
            incident = kept if kept is not None else self._decode(entry)
        self.incidents[incident.id] = incident
        self.changed(incident.id)
        for alias, _, _ in incident.repeats:
            self.aliases[alias] = incident.id
        for event, number in entry["escalations"].items():
            self.escalation_index[event] = (incident.id, int(number))
        for event, doc in entry["decisions"].items():
            self.decisions[event] = load_explanation(doc)
        return incident

    def rated(self, incident: Incident) -> dict[str, Any] | None:
        """The document ``incident`` was archived with, if ``take_out`` just gave it as it was archived (not
        read back from its entry): a rating applied to it since changed only what ``checkpoint.dump_rated``
        writes again."""
        taken, self._taken = self._taken, None
        return taken[1] if taken is not None and taken[0] is incident else None

    def put_back(self, incident: Incident, names: list[str], written: dict[str, Any] | None = None) -> None:
        """After ``take_out`` and the event: archived again if still closed, else open from now on
        (``written``: see ``close_out``)."""
        self._taken = None
        if incident.status == CLOSED:
            self.close_out(incident, written)
            return
        self.archive.add({"removed": incident.id, "names": names}, typed=True)
        ids = self.at_place[(incident.category, incident.place_key)]
        times = [self.incidents[i].reported_at for i in ids]
        ids.insert(bisect.bisect_right(times, incident.reported_at), incident.id)

    def archived_names(self, ident: str) -> list[str]:
        """The names the archive's newest entry for incident ``ident`` answers to."""
        found = self._archived(ident)
        return [] if found is None else entry_names(found[1])

    def find(self, ident: str) -> Incident | None:
        """The incident reported as ``ident`` (not a repeat report's id), open or closed; None if none.

        A closed one is read from the archive: change it only through
        ``take_out``, and hold it only for the read (``take_out`` may give
        the same object back to be changed).
        """
        incident = self.incidents.get(ident)
        if incident is not None:
            return incident
        found = self._archived(ident)
        if found is None:
            return None
        where, entry = found
        kept = self._decoded.get(where)  # (decoded for a read ...)
        if kept is not None:
            return kept
        closed = self._closed.get(where)  # (... or just closed)
        if closed is not None:
            return closed[0]
        judged = self._judged
        if judged is None or judged[0] != where:
            judged = self._judged = (where, self._decode(entry))
        return judged[1]

    def primary_of(self, ident: str) -> str | None:
        """The incident a repeat report ``ident`` joined, open or closed; None if it is no repeat report."""
        primary = self.aliases.get(ident)
        if primary is not None:
            return primary
        found = self.archive.find(ident)
        if found is None:
            return None
        incident = found[1]["incident"]
        return str(incident["id"]) if any(r[0] == ident for r in incident["repeats"]) else None

    def known(self, ident: str) -> bool:
        """True if ``ident`` was reported: an incident's id or a repeat report's, open or closed."""
        return (ident in self.incidents or ident in self.aliases or self._archived(ident) is not None
                or self.primary_of(ident) is not None)

    def decision(self, event: str) -> Explanation | None:
        """The explanation decided when ``event`` was applied (a join, a reopening ...), if any."""
        found = self.decisions.get(event)
        if found is not None:
            return found
        archived = self.archive.find(EVENT + event)
        if archived is None or event not in archived[1]["decisions"]:
            return None
        explanation: Explanation = _checkpoint_module().load_explanation(archived[1]["decisions"][event])
        return explanation

    def escalation(self, event: str) -> tuple[Incident, int] | None:
        """The incident the escalation ``event`` moved, and which of its escalations it is."""
        found = self.escalation_index.get(event)
        if found is not None:
            return self.incidents[found[0]], found[1]
        archived = self.archive.find(EVENT + event)
        if archived is None or event not in archived[1]["escalations"]:
            return None
        return self._cached(*archived), int(archived[1]["escalations"][event])

    def every(self) -> list[Incident]:
        """Every incident, open and closed, by report time (a read of every closed one: the whole history)."""
        out = list(self.incidents.values())
        out.extend(self._cached(where, entry) for where, entry in self.archive.current())
        return sorted(out, key=lambda i: (i.reported_at, i.id))

    def reported_between(self, start: datetime, end: datetime) -> list[Incident]:
        """The incidents reported in ``[start, end)``, open and closed, by report time.

        Read as ``active_between`` reads (every incident reported in the span
        has a step in it), so the metrics of one period read its incidents once.
        """
        return [i for i in self._active(start, end) if start <= i.reported_at < end]

    def active_between(self, start: datetime, end: datetime) -> list[Incident]:
        """Every open incident, and the closed ones with a step in ``[start, end)`` (or spanning it).

        A superset: callers keep what happened in the period.  The last read
        is kept until an incident changes, and a read of a span inside it (a
        month of the quarter just read, the same quarter for another metric)
        is answered from it: reading a quarter's closed incidents from the
        archive again for every metric, node and month cost most of a roll-up.
        """
        return list(self._active(start, end))

    def _active(self, start: datetime, end: datetime) -> list[Incident]:
        kept = self._spanning(start, end)
        if kept is not None:
            return kept
        out = list(self.incidents.values())
        out.extend(self._cached(where, entry) for where, entry in self.archive.current(active=(start, end)))
        out.sort(key=lambda i: (i.reported_at, i.id))
        self._spanned = (start, end, self.stamp(), out)
        return out

    def _spanning(self, start: datetime, end: datetime) -> list[Incident] | None:
        """The last ``active_between`` read if it spans ``[start, end)`` and no incident changed since."""
        kept = self._spanned
        if kept is None or not (kept[0] <= start and end <= kept[1]):
            return None
        if kept[2] != self.stamp():
            self._spanned = None
            return None
        return kept[3]

    def stamp(self) -> tuple[int, int]:
        """Changes whenever an incident does (for memos of reads)."""
        # (every metric of a roll-up asks, for every node: the versions summed in C, not by a generator)
        return self.archive.size, sum(map(_VERSION, self.incidents.values()))

    def _archived(self, ident: str) -> tuple[tuple[int, int], dict[str, Any]] | None:
        """The newest archive entry of incident ``ident`` (by its own id), if it is archived."""
        found = self.archive.find(ident)
        if found is None or found[1]["incident"]["id"] != ident:
            return None
        return found

    def _decode(self, entry: dict[str, Any]) -> Incident:
        incident: Incident = _checkpoint_module()._load_incident(self.engine, entry["incident"])
        return incident

    def _cached(self, where: tuple[int, int], entry: dict[str, Any]) -> Incident:
        found = self._decoded.get(where)
        if found is None:
            found = self._decoded[where] = self._decode(entry)
            while len(self._decoded) > DECODED:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end(where)
        return found
