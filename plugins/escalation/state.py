"""The escalation plugin's per-engine state: every incident, derived from the event log.

``EscalationState`` is attached to an engine as ``"escalation"``; its hook
implementations validate incident events, apply them, and return what falls
due on ``tick``.  Each incident keeps the policy in force when it was reported,
so a ruleset change never rewrites the judgement of an open incident.  An
incident that closes is archived (archive.py): the state keeps in memory, and
in its checkpoints, only what is still open.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import attrs

from gridcore import EventKinds, Explanation, Outcome, OutcomeKind, hookimpl
from gridcore.errors import GridcoreError
from gridcore.events import SYSTEM_ACTOR, Event
from gridcore.parts import part_writers

from .archive import COLLECTION, NAMES
from .events import (
    IncidentAssigned,
    IncidentEscalated,
    IncidentEvent,
    IncidentReopened,
    IncidentReported,
    RepeatReportJoined,
    SatisfactionRated,
)
from .ignored import at, joined_why, refusal_cause, refused_step_decision, stale_why
from .incident import CLOSED, Entry, Incident
from .lifecycle import Checks
from .transitions import Transitions

if TYPE_CHECKING:
    from gridcore import Engine

    from .timers import Due

NAME = "escalation"

#: The derived events numbered ``<kind>:<incident>:<n>`` (escalations, reopenings, passes inside the cell).
_NUMBERED = (IncidentEscalated, IncidentReopened, IncidentAssigned)


#: Steps by hand with rules of their own for replay after a late event (``escalation ignored``, ``reopen ignored``).
_OWN_REPLAY_RULES = (IncidentEscalated, IncidentReopened)

#: What the escalation plugin reports to a what-if comparison: how each incident was handled.
HANDLING = OutcomeKind("incidents", "Incidents handled differently (办理结果不同的事件)")


class EscalationState(Transitions, Checks):
    """Every incident of one engine, and the hooks that keep them up to date.

    It owns its methods: the data and scheduling are ``Records`` (records.py),
    reports coming in ``Intake`` (intake.py), refusals ``Checks``
    (lifecycle.py), extensions ``Extensions`` (extensions.py), returns
    ``Returns`` (returns.py), assignments ``Assignments`` (assignments.py), consultations and feedback ``Steps`` (steps.py)
    and every other step ``Transitions`` (transitions.py).
    """

    #: the shape of the document ``gridcore_save_state`` gives (``checkpoint.py``)
    #: 8: closed incidents archived in the store; 9: repeat_report_joined derived; 10: report times kept
    #: only within the longest repeat window; 11: the names of archived entries in the store; 12: places whose
    #: latest report is older than the longest repeat window before the latest report anywhere dropped;
    #: 13: the archive's older stored parts in chapters (``gridcore.archive``), not named in the checkpoint;
    #: 14: an incident's fields at their default left out of its document (open, and archived);
    #: 15: a stored breach whose limit a late acceptance or resolution met is ignored on replay (87cfb21), so
    #: a checkpoint written after such a rewind by an older version may hold the case escalated: replayed;
    #: 16: an ignored escalation has its explanation among the decisions (replayed, so older stores' have it);
    #: 17: a case keeps the highest number of its escalations seen (``Incident.escalation_number``)
    #: 18: a summoned department's officer answers only on the case's branch of the tree (``routing.
    #: department_members``), so a summons an older version saw answered by another street's officer at the
    #: command centre is not answered on replay: its checkpoints are replayed;
    #: 19: a case keeps the highest number of its reopenings and passes seen (``Incident.reopen_number``,
    #: ``pass_number``), and a stored reopening or pass a late event makes no longer hold is ignored;
    #: 20: a stored step by a person that the replayed log refuses in time order is ignored, so a checkpoint
    #: written after such a rewind by an older version may hold the step applied: replayed
    STATE_VERSION = 20

    #: the stored step ``gridcore_validate_stored`` judged last, and why time order refuses it (``[]``: it
    #: does not), read back when the same step is applied
    _judged_stored: tuple[Event, list[str]] | None = None

    # ------------------------------------------------------------ hooks

    @hookimpl
    def gridcore_event_kinds(self) -> EventKinds:
        """Incident events only: the hooks below pass every other event by."""
        return EventKinds(validate_event=[IncidentEvent], on_event=[IncidentEvent])

    @hookimpl
    def gridcore_validate_event(self, engine: Engine, event: Event) -> list[str] | None:
        """Refuse illegal transitions and people acting outside their cells."""
        if not isinstance(event, IncidentEvent):
            return None
        if isinstance(event, RepeatReportJoined):
            return self.join_refusals(event)
        return self.refusals(event)

    @hookimpl
    def gridcore_on_event(self, engine: Engine, event: Event, replaying: bool) -> None:
        """Apply one incident event to its incident."""
        reached = self._step(event, replaying)
        # a period's reads count how its cases went on after it (closed in time or not): a step reaches
        # back to its case's report
        self.stamps.note(event.time if reached is None or event.time < reached else reached)

    @hookimpl
    def gridcore_validate_stored(self, event: Event) -> list[str] | None:
        """Why ``event``, a stored incident event replayed, is ignored (``_step`` keeps it as ignored): a step
        by a person the replayed log refuses in time order, a step of a report a late, earlier report made
        a repeat report, a report of an id such a report took (the same id reported twice) and its join, a
        join such a report made name another case, an escalation, reopening, pass,
        return or extension step (by a person or derived) that no longer holds.  Every plugin then gets it through
        ``gridcore_on_event_ignored``, not ``gridcore_on_event``: none pays or counts it."""
        if not isinstance(event, IncidentEvent):
            return None
        if isinstance(event, IncidentReported):
            # (a second report of an id a late, earlier report took: refused in time order, as in order)
            return [self.reported_again_why(event)] if self.known(event.incident) else None
        if isinstance(event, RepeatReportJoined):
            if event.id in self.joins_due:
                return None
            if self._report_ignored(event):
                return [self.reported_again_why(event)]
            now = self.aliases.get(event.report)
            primary = self.incidents.get(now) if now is not None else None
            return None if primary is None or now == event.incident else [stale_why(event, primary)]
        incident = self.incidents.get(event.incident)
        if incident is None:
            primary_id = self.aliases.get(event.incident)
            if primary_id is not None:
                return [joined_why(event, self.incidents[primary_id])]
            incident = self.find(event.incident) if self.archived_names(event.incident) else None
            if incident is None:
                return None
        reasons = self._time_order_refusals(incident, event)
        if reasons:
            return reasons
        # an escalation, reopening, pass, return or extension step that no longer holds (its transition keeps
        # it as ``... ignored``): derived ones too, which time order never derives
        why = self.stale_why(incident, event)
        return None if why is None else [why]

    @hookimpl
    def gridcore_on_event_ignored(self, engine: Engine, event: Event, reasons: list[str]) -> None:
        """Keep ``event`` (``gridcore_validate_stored``) in its case's timeline as ignored, explained, and the
        reasons every plugin gave (``ignored_now``)."""
        self.ignored_now[event.id] = (event, list(reasons))
        self.gridcore_on_event(engine, event, True)

    @hookimpl
    def gridcore_period_stamp(self, end: datetime) -> int:
        """When the cases last changed for a period ending at ``end`` (``gridcore.stamps``)."""
        return self.stamps.stamp(end)

    def _reported(self, ident: str) -> datetime | None:
        """When case ``ident`` (or the case a repeat report ``ident`` joined) was reported, if it is open."""
        incident = self.incidents.get(ident)
        if incident is None:
            primary = self.aliases.get(ident)
            incident = None if primary is None else self.incidents.get(primary)
        return None if incident is None else incident.reported_at

    def _step(self, event: Event, replaying: bool) -> datetime | None:
        """Apply ``event``; the report time of the case it changed (None: it changed none or only its own)."""
        if isinstance(event, IncidentReported):
            if replaying and self.known(event.incident):
                # a stored report of an id that a report dated earlier, recorded after it, took: in time
                # order it is refused (``gridcore_validate_stored``), so it is kept, ignored
                return self.ignore_report(event)
            self.reported(event)
            self.changed(event.incident)
            self.changed(self.aliases.get(event.incident, event.incident))  # (a repeat report: its primary)
            return self._reported(event.incident)
        if not isinstance(event, IncidentEvent):
            return None
        if isinstance(event, RepeatReportJoined):
            # (published for other plugins: the join is already made; a stored one not due is one a late
            # earlier report made name another case, or the join of a report ignored: kept, ignored)
            if self.joins_due.pop(event.id, None) is not None:
                self.joined_as = (event.report, event.id)  # (named by a stale join replayed just after it)
            elif replaying and self._report_ignored(event):
                pass  # (its report was ignored: ``ignore_report`` explains both)
            elif replaying:
                report, ident = self.joined_as
                self.stale_join(event, ident if report == event.report else "its join on the replayed log")
            return self._reported(event.incident)
        self.changed(event.incident)
        incident = self.incidents.get(event.incident)
        if incident is None:
            primary = self.aliases.get(event.incident)
            if primary is not None:
                # a stored step of a report that, replayed after an earlier report of the same place
                # recorded late, joined that one's case as a repeat: it happened, and is kept there, ignored
                self.ignore_joined(self.incidents[primary], event)
                self.changed(primary)
                self.schedule(self.incidents[primary])
                return self.incidents[primary].reported_at
            # a closed incident: rated after closing, or a stored event replayed after a late one
            names = self.archived_names(event.incident)
            incident = self.take_out(event.incident) if names else None
            if incident is None:
                return None
            # (a rating, most of the events reaching a closed case: it is written again from its document)
            written = self.rated(incident) if isinstance(event, SatisfactionRated) else None
            if not (replaying and self.refused_in_time_order(incident, event)):
                self.transition(incident, event)
            else:
                written = None
            if incident.status != CLOSED:  # (closed again: ``put_back`` archives it, nothing falls due)
                self.schedule(incident)
            self.put_back(incident, names, written)
            return incident.reported_at
        if replaying and self.refused_in_time_order(incident, event):
            self.schedule(incident)
            return incident.reported_at
        self.transition(incident, event)
        if incident.status == CLOSED:
            # (nothing falls due for a closed case: ``close_out`` forgets what did, so it is not worked out)
            self.close_out(incident)
            return incident.reported_at
        self.schedule(incident)
        return incident.reported_at

    def reported_again_why(self, event: IncidentReported | RepeatReportJoined) -> str:
        """Why ``event``, a stored report of an id already reported on the replayed log (or the join such a
        report made), is ignored: the refusal of a second report in order (``Checks.refusals``)."""
        if isinstance(event, IncidentReported):
            return _reported_again(event.incident)
        return (f"{event.id}: its report of {event.report} is ignored: incident {event.report} was already "
                "reported (此次上报已忽略：事件编号已上报过)")

    def _report_ignored(self, event: RepeatReportJoined) -> bool:
        """True if ``event`` is a join (``joined:<report event>``, or ``...:<n>``) that a stored report ignored
        on the replayed log made (``ignore_report``): read from that report's decision, which is kept with its
        case (in checkpoints and the archive)."""
        rest = event.id.removeprefix("joined:")
        head, _, number = rest.rpartition(":")
        why = _reported_again(event.report)
        for report in (rest, head) if number.isdigit() else (rest,):
            found = self.decision(report)
            if found is not None and found.result == _IGNORED and found.inputs.get("refused in time order") == why:
                return True
        return False

    def ignore_report(self, event: IncidentReported) -> datetime | None:
        """``event``, a stored report of an id that a report dated earlier, recorded after it, took (the
        same id reported twice): in time order it is refused as in order (``incident ... was already
        reported``), so it changes nothing.  It is kept, ignored and explained, in the timeline of the case
        the id names (open or closed: taken out of the archive and put back); its join, if it made one, is
        ignored too.  The report time of that case (None if it has none)."""
        ident = self.aliases.get(event.incident, event.incident)
        incident = self.incidents.get(ident)
        names: list[str] = []
        if incident is None:
            names = self.archived_names(event.incident)
            incident = self.take_out(event.incident) if names else None
            if incident is None:
                return None
        why = self.reported_again_why(event)
        # the report that took the id: the case's own, or the repeat report that joined it
        late = next((e for e in incident.timeline if e.event and e.time <= event.time and (
            (e.what == "reported" and incident.id == event.incident)
            or (e.what == "repeat report" and e.detail.startswith(f"{event.incident} joined")))), None)
        detail = f"reported: refused in time order: {why}"
        if late is not None:
            detail += f"; {late.event} ({late.what} at {at(late.time, event.time)}) recorded late (补录)"
        incident.note(Entry(event.time, "step ignored", event.actor, event.node, detail, event=event.id))
        self.decisions[event.id] = refused_step_decision(incident, event, "reported", why, late)
        self.changed(incident.id)
        if incident.status != CLOSED:  # (the note made its deadline's entry stale: scheduled again)
            self.schedule(incident)
        if names:
            self.put_back(incident, names)
        return incident.reported_at

    def refused_in_time_order(self, incident: Incident, event: IncidentEvent) -> bool:
        """True (and ``event`` kept in the timeline as ``step ignored``, explained) if ``event``, a stored step
        by a person replayed after a late event, is refused on the replayed log: in time order it would
        have been, so it changes nothing.  Escalations and reopenings by hand keep their own rules of
        replay (``escalation ignored``, ``reopen ignored``).  A step that no event recorded late comes
        before in time order (``Engine.late_before``: every step of a log recorded in time order) was
        judged on the replayed log's own events and accepted: it is not judged again (``_time_order_refusals``)."""
        reasons = self._time_order_refusals(incident, event)
        if not reasons:
            return False
        why = reasons[0]
        late = refusal_cause(incident, event, why)
        step = type(event).kind.removeprefix("incident_").replace("_", " ")
        detail = f"{step}: refused in time order: {why}"
        if late is not None:
            detail += f"; {late.event} ({late.what} at {at(late.time, event.time)}) recorded late (补录)"
        incident.note(Entry(event.time, "step ignored", event.actor, event.node, detail, event=event.id))
        self.decisions[event.id] = refused_step_decision(incident, event, step, why, late)
        return True

    def _time_order_refusals(self, incident: Incident, event: IncidentEvent) -> list[str]:
        """Why the replayed log refuses ``event``, a stored step of ``incident`` by a person, in time order
        (judged once: by ``gridcore_validate_stored``, then read by ``refused_in_time_order``)."""
        judged = self._judged_stored
        if judged is not None and judged[0] is event:
            self._judged_stored = None
            return judged[1]
        if (event.actor == SYSTEM_ACTOR or isinstance(event, _OWN_REPLAY_RULES)
                or not self.engine.late_before(event)):
            return []
        reasons = self.step_refusals(incident, event)
        self._judged_stored = (event, reasons)
        return reasons

    @hookimpl
    def gridcore_on_tick(self, engine: Engine, now: datetime) -> list[Event]:
        """Every escalation, reopening and repeat report's joining due by ``now`` (at the time it fell due)."""
        heap = self._heap
        # (called before every event: most often no join waits, and even the earliest entry of the
        # heap, stale or not, falls due after ``now``, so nothing does and its staleness need not be
        # looked up; ticks come in the zone the heap is kept in)
        if self._zone is now.tzinfo and not self.joins_due and (not heap or heap[0][0] > now):
            return []
        return self._due_by(now)

    @hookimpl
    def gridcore_next_due(self) -> datetime | None:
        """The earliest entry of the heap (stale or not) or join waiting: ``gridcore_on_tick`` finds nothing
        due before it (nor without either: ``None``)."""
        heap = self._heap
        first = heap[0][0] if heap else None
        if self.joins_due:
            join = min(e.time for e in self.joins_due.values())
            if first is None or join < first:
                first = join
        return first

    def _due_by(self, now: datetime) -> list[Event]:
        """``gridcore_on_tick``'s answer, worked out."""
        out: list[Event] = [e for e in self.joins_due.values() if e.time <= now] if self.joins_due else []
        if out and not self.engine.caught_up:
            out = [self._claim_join(e) for e in out]  # type: ignore[arg-type]
        if self._zone is not now.tzinfo and type(now.tzinfo) is timezone:
            # (fixed offsets only: two times in one tzinfo compare by their fields, which for a zone
            # with summer time would not be by the instant they name)
            self._zone = now.tzinfo
        heap = self._heap
        if not heap or heap[0][0] > now:
            return out
        while heap and not self.current(heap[0]):
            heapq.heappop(heap)
        if not heap or heap[0][0] > now:
            return out
        # Only the entries due by ``now`` are visited: in a heap, an entry's children fall due
        # no earlier than it does, so the walk stops at the first later one on each branch
        # (the heap holds an entry for every incident still open, and more).
        seen: set[str] = set()
        size = len(heap)
        stack = [0]
        while stack:
            at = stack.pop()
            entry = heap[at]
            if entry[0] > now:
                continue
            ident = entry[1]
            if ident not in seen and self.current(entry):
                seen.add(ident)
                due = self.due[ident]
                assert due is not None
                if not self.engine.caught_up and isinstance(due.event, _NUMBERED):
                    self._unclaimed(due)
                out.append(due.event)
            stack.extend(child for child in (2 * at + 1, 2 * at + 2) if child < size)
        return out

    def _claim_join(self, event: RepeatReportJoined) -> RepeatReportJoined:
        """``event``, a join due while stored events wait to be applied, under an id the store does not hold
        for another join: a late, earlier report at the same place can make the stored ``joined:<report
        event>`` name another case (the one the report joined before the late report came, now itself a
        repeat report).  That stored one is a fact of the log, replayed in its place and ignored
        (``stale_join``); this one takes ``joined:<report event>:<n>``, the first the store does not hold
        or holds as it is (the same log gives the same ids, replayed in full or from a checkpoint)."""
        find = self.engine.store.find
        mine = {k: v for k, v in self.engine.codec.to_dict(event).items() if k != "id"}
        ident, n = event.id, 1
        while True:
            stored = find([ident]).get(ident)
            if stored is None or all(stored.get(k) == v for k, v in mine.items()):
                break
            n += 1
            ident = f"{event.id}:{n}"
        if ident == event.id:
            return event
        claimed = attrs.evolve(event, id=ident)
        del self.joins_due[event.id]
        self.joins_due[ident] = claimed
        return claimed

    def _unclaimed(self, due: Due) -> None:
        """Number ``due``'s escalation (reopening, pass) above those the store holds for other times.

        While stored events wait to be applied (a late event, a replay), the
        store may hold the case's ``esc:<id>:<n>`` for another time: derived
        before a late event brought this one earlier.  That stored one is a
        fact of the log, replayed in its place (and ignored there if it no
        longer holds); this one takes the next number the store does not hold
        for another time.  The same log gives the same numbers, replayed in
        full or from a checkpoint (``caught_up``: nothing stored waits, so
        nothing numbered ahead can be there).  A stored one of a lower number
        not seen yet that says the same (all but its id: the same time, target,
        reason and rule) is this one: it takes its id (applied in its place, as
        a replay applies every derived event), not a second number.
        """
        event = due.event
        head, _, number = event.id.rpartition(":")
        if not (number.isascii() and number.isdecimal()):
            return
        n = int(number)
        find = self.engine.store.find
        incident = self.incidents.get(str(getattr(event, "incident", "")))
        if n > 1 and incident is not None:
            seen = {entry.event for entry in incident.timeline if entry.event.startswith(head)}
            lower = [f"{head}:{k}" for k in range(1, n) if f"{head}:{k}" not in seen]
            found = find(lower) if lower else {}
            mine = {k: v for k, v in self.engine.codec.to_dict(event).items() if k != "id"} if found else {}
            same = next((ident for ident in lower if ident in found
                         and all(found[ident].get(k) == v for k, v in mine.items())), None)
            if same is not None:
                due.renumber(same)
                return
        while True:
            ident = f"{head}:{n}"
            stored = find([ident]).get(ident)
            if stored is None or _same_time(stored, event.time):
                break
            n += 1
        if ident != event.id:
            due.renumber(ident)

    @hookimpl
    def gridcore_on_flush(self, engine: Engine) -> None:
        """The archive's sealed parts stored with the engine's next batch, not held until the checkpoint."""
        if self.archive.waiting:
            self.archive.store_sealed(*part_writers(engine.store, COLLECTION, NAMES))

    @hookimpl
    def gridcore_save_state(self) -> dict[str, Any]:
        """The open incidents, the archive's parts (stored first) and what reports were seen where."""
        from .checkpoint import save

        document = save(self)
        document["joins due"] = [[e.id, e.time.isoformat(), e.node, e.incident, e.report, e.severity, e.rule]
                                 for _, e in sorted(self.joins_due.items())]
        return document

    @hookimpl
    def gridcore_restore_state(self, engine: Engine, document: dict[str, Any]) -> None:
        """Take back what a checkpoint saved (what falls due is computed again)."""
        from .checkpoint import restore

        restore(self, engine, document)
        try:
            joins = [RepeatReportJoined(id=str(ident), time=datetime.fromisoformat(when), actor=SYSTEM_ACTOR,
                                        node=str(node), incident=str(incident), report=str(report),
                                        severity=int(severity), rule=str(rule))
                     for ident, when, node, incident, report, severity, rule in document["joins due"]]
        except (KeyError, TypeError, ValueError, GridcoreError) as exc:
            raise ValueError(f"unreadable escalation checkpoint: {exc}") from exc
        self.joins_due = {e.id: e for e in joins}

    @hookimpl
    def gridcore_explain(self, engine: Engine, decision: str, lang: str) -> Explanation | None:
        """Explain ``escalation:<event id>`` or ``escalation:route:<incident>`` (headed in Chinese for ``zh``)."""
        from .headings import INPUTS_ZH
        from .views import explain

        answer = explain(self, decision)
        if answer is None or lang != "zh":
            return answer
        from . import detail_zh

        route = decision.startswith("escalation:route:")
        ident = decision.split(":", 2)[2] if route else answer.inputs.get("incident")
        found = self.find(str(ident)) if ident is not None else None
        names = detail_zh.names(engine, found.node if found is not None else None)
        return detail_zh.explanation(answer, names).labelled(INPUTS_ZH)

    @hookimpl
    def gridcore_collect_outcomes(self, engine: Engine) -> list[Outcome]:
        """Each incident's final node, level, status and number of escalations."""
        out = []
        for incident in sorted(self.every(), key=lambda i: i.id):
            rules = tuple(e.rule for e in incident.escalations if e.rule is not None)
            if incident.route is not None:
                rules = (incident.route.rule, *rules)
            subject = f"incident:{incident.id}"
            out.append(
                Outcome(
                    NAME, f"{subject}:level", incident.current_level, rules, incident.current_node, HANDLING
                )
            )
            out.append(Outcome(NAME, f"{subject}:node", incident.current_node, rules, kind=HANDLING))
            out.append(Outcome(NAME, f"{subject}:status", incident.status, rules, kind=HANDLING))
            out.append(Outcome(NAME, f"{subject}:escalations", len(incident.escalations), rules, kind=HANDLING))
        return out



def _same_time(document: dict[str, Any], when: datetime) -> bool:
    """True if the stored event ``document`` is dated ``when`` (the same instant)."""
    try:
        return datetime.fromisoformat(str(document.get("time"))) == when
    except ValueError:
        return False


#: What ``refused_step_decision`` gives an ignored step (``_report_ignored`` reads it).
_IGNORED = "ignored (已忽略)"


def _reported_again(ident: str) -> str:
    """Why a second report of incident ``ident`` is refused, in order or (stored) in time order."""
    return f"incident {ident} was already reported (事件编号已上报过)"
