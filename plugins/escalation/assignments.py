"""Assignments (派单): a case given to a named handler, and passed on inside the cell.

A leader assigns a case to a named member who may handle it (a staff role at
its node or above, or a member of a line department on it), or reassigns
it; the handler takes it on (accepts) afresh, under the limits of their own
role (``handler limit ROLE``) when the ruleset gives it some.  When such a
limit runs out and it says ``then pass to ROLE``, the rules assign the case
to that role's holder in the cell (its node, else the nearest above): the
escalation inside a cell, worker to leader, before the case moves up the
tree.  These are methods of the escalation state (``EscalationState`` mixes
``Assignments`` in).
"""

from __future__ import annotations

from gridcore import Explanation
from gridcore.events import SYSTEM_ACTOR

from .events import IncidentAssigned
from .extensions import Extensions
from .ignored import ignored_derived
from .incident import REPORTED, Assignment, Entry, Incident, numbered
from .intake import Intake
from .lifecycle import STATUS_ZH


class Assignments(Intake, Extensions):
    """Assignments and the handler's role (a mixin of ``EscalationState``)."""

    def assignment_stale(self, incident: Incident, event: IncidentAssigned) -> str | None:
        """Why ``event``, a stored assignment (or pass inside the cell) replayed after a late event, no longer
        holds (``assignment ignored``), English then Chinese; None: it holds."""
        if not incident.is_open:
            status_zh = STATUS_ZH.get(incident.status, incident.status)
            return f"incident was {incident.status} (事件当时{status_zh})"
        if event.actor == SYSTEM_ACTOR and not self._pass_due(incident, event):
            return "its handler's limit no longer ran out then (recorded late) (补录后此时办理人未超时限)"
        return None

    def _pass_due(self, incident: Incident, event: IncidentAssigned) -> bool:
        """True if ``event``, a pass by the rules, is what falls due now (a stored pass replayed after a late
        event may be another, or the same under another number: the handler's limit ran out at its time,
        passing it to the same one)."""
        due = self.due.get(incident.id)
        return due is not None and due.kind == "pass" and due.time == event.time \
            and (due.event.id == event.id or getattr(due.event, "handler", None) == event.handler)

    def assigned(self, incident: Incident, event: IncidentAssigned) -> None:
        """Give the case to the named handler: they must take it on, under their role's limits."""
        system = event.actor == SYSTEM_ACTOR
        if system:
            incident.pass_number = max(incident.pass_number, numbered(event.id, "pass", incident.id))
        if not incident.is_open:
            incident.note(Entry(event.time, "assignment ignored", event.actor, event.node,
                                f"incident was {incident.status}", event.rule, event.id))
            if system:
                status_zh = STATUS_ZH.get(incident.status, incident.status)
                self.decisions[event.id] = ignored_derived(incident, event, "pass",
                                                           f"incident was {incident.status} (事件当时{status_zh})")
            return
        due = self.due.get(incident.id)
        derived = system and self._pass_due(incident, event)
        if system and not derived:
            why = ("its handler's limit no longer ran out then (recorded late) "
                   "(补录后此时办理人未超时限)")
            incident.note(Entry(event.time, "assignment ignored", event.actor, event.node, why, event.rule,
                                event.id))
            self.decisions[event.id] = ignored_derived(incident, event, "pass", why)
            return
        if system:
            incident.pass_events += 1
        if derived and due is not None and due.breach is not None:
            incident.breaches.append(due.breach)
        previous = incident.accepted_by or incident.assignee
        self.lapse_extension(incident, event.time, f"the case was assigned to {event.handler}")
        incident.assignee = event.handler
        incident.status, incident.accepted_at, incident.accepted_by = REPORTED, None, None
        incident.restart_handler_clock(event.time)  # the level's clock runs on
        incident.handler_role = self.role_of(incident, event.handler)
        rule = due.rule if derived and due is not None else None
        incident.assignments.append(Assignment(event.id, event.time, event.actor, event.handler,
                                               incident.handler_role, previous, event.reason, rule))
        role = f" ({incident.handler_role})" if incident.handler_role else ""
        detail = f"to {event.handler}{role}" + (f": {event.reason}" if event.reason else "")
        if derived and due is not None:
            self.decisions[event.id] = Explanation(
                f"escalation:{event.id}", f"the system assigned incident {incident.id} {detail}",
                (due.rule,) if due.rule is not None else (), {"incident": incident.id, **due.facts},
                incident.current_node)
        incident.note(Entry(event.time, "assigned", event.actor, event.node, detail, event.rule, event.id))

    def update_handler(self, incident: Incident) -> None:
        """Whose limits the case runs under: whoever took it on, else its named handler."""
        person = incident.accepted_by or incident.assignee
        incident.handler_role = self.role_of(incident, person) if person else None

    def role_of(self, incident: Incident, person: str) -> str | None:
        """The role of ``person`` that covers the case and has handler limits (the first written)."""
        policy = incident.limits
        community = self.engine.community
        if policy is None or not policy.handler_limits or person not in community.members:
            return None
        hierarchy = community.hierarchy
        held = {a.role for a in community.members[person].roles
                if a.node in hierarchy and hierarchy.is_within(incident.node, a.node)}
        return next((limit.role for limit in policy.handler_limits if limit.role in held), None)

