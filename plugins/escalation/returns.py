"""Returns (退单): a case sent back with a reason, and routed again.

A line department returns what is not its remit: it leaves the case, and if
one of its members had taken the case on, the node's own staff must accept
it again.  A handler returns a case reported in the wrong cell: it is routed
again as if reported there (the route rules, the start level, the
departments, who is told).  A return naming neither routes the case again
from where it was reported: a level sends back what is not its matter.
Either way the case's clock starts again where it lands, and a request for
more time still waiting lapses.  These are methods of the escalation state
(``EscalationState`` mixes ``Returns`` in).
"""

from __future__ import annotations

from .events import IncidentReturned
from .extensions import Extensions
from .incident import REPORTED, Entry, Incident, Return
from .intake import Intake
from .lifecycle import STATUS_ZH


class Returns(Intake, Extensions):
    """Cases sent back (a mixin of ``EscalationState``)."""

    def return_stale(self, incident: Incident) -> str | None:
        """Why a stored return replayed after a late event no longer holds (``return ignored``): the case
        is no longer open then; None: it holds."""
        if incident.is_open:
            return None
        return f"incident was {incident.status} (事件当时{STATUS_ZH.get(incident.status, incident.status)})"

    def returned(self, incident: Incident, event: IncidentReturned) -> None:
        """Apply a return: the department leaves, or the case is routed again."""
        if not incident.is_open:
            # a stored return replayed after a late event changed the facts
            incident.note(Entry(event.time, "return ignored", event.actor, event.node,
                                f"incident was {incident.status}", event=event.id))
            return
        from_node, from_level = incident.current_node, incident.current_level
        self.lapse_extension(incident, event.time, "the case was returned")
        if event.department is not None:
            incident.departments = tuple(d for d in incident.departments if d != event.department)
            if incident.summoned == event.department:
                incident.answer(left_at=event.time, returned=True)
                incident.summoned = None
            members = self.engine.community.department_members(event.department)
            taken_by_it = incident.accepted_by in {m.id for m in members}
            detail = f"by {event.department}: {event.reason}"
            if taken_by_it:
                detail += f"; back to {incident.current_level} {incident.current_node} to be taken on again"
            incident.note(Entry(event.time, "returned", event.actor, event.node, detail, event=event.id))
            if taken_by_it:
                incident.status, incident.accepted_at, incident.accepted_by = REPORTED, None, None
                incident.restart_clock(event.time)
        else:
            where = f"to {event.to_node}: " if event.to_node is not None else ""
            incident.note(Entry(event.time, "returned", event.actor, event.node,
                                f"{where}{event.reason}; routed again", event=event.id))
            if event.to_node is not None:
                incident.node = event.to_node
                incident.place = None
            incident.status, incident.accepted_at, incident.accepted_by = REPORTED, None, None
            incident.assignee = None
            incident.answer(left_at=event.time)
            incident.summoned = None
            incident.pending.clear()
            self._route(incident, incident.policy, event.time)
            gone = {r.department for r in incident.returns if r.department}
            incident.departments = tuple(d for d in incident.departments if d not in gone)
            self.arrived(incident, event.time)
        incident.returns.append(Return(event.id, event.time, event.actor, from_node, from_level,
                                       event.department, incident.current_node, event.reason))
