"""Steps inside the loop: consultation (会商) and feedback to the reporter (反馈).

A consultation is a meeting on the case (its participants and decision); a
ruleset may require one before handling starts (``consultation CATEGORY:
required before handling``), which the refusals in lifecycle.py enforce.
Feedback tells the reporter the result; its limit (``feedback: within
SPAN``) runs from the resolution, in the calendar's working time when the
span is, and whether it was met is a fact of the two events' times, never of
when time is ticked.  These are methods of the escalation state
(``EscalationState`` mixes ``Steps`` in).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from . import worktime
from .events import ConsultationHeld, FeedbackGiven
from .incident import Consultation, Entry, Incident
from .records import Records


class Steps(Records):
    """Consultations and feedback (a mixin of ``EscalationState``)."""

    def consulted(self, incident: Incident, event: ConsultationHeld) -> None:
        """Keep the consultation and put it in the timeline."""
        incident.consultations.append(
            Consultation(event.id, event.time, event.actor, incident.current_level, incident.current_node,
                         event.participants, event.decision)
        )
        detail = f"with {', '.join(event.participants)}: {event.decision}"
        incident.note(Entry(event.time, "consulted", event.actor, event.node, detail, event=event.id))

    def feedback_given(self, incident: Incident, event: FeedbackGiven) -> None:
        """The reporter was told: note when, and whether it was within the limit."""
        tz = self.engine.community.tz
        incident.feedback_at, incident.feedback_by = event.time, event.actor
        parts = [p for p in (event.note, f"by {event.channel}" if event.channel else "") if p]
        if incident.feedback_due is not None:
            on_time = event.time <= incident.feedback_due
            parts.append(f"{'within' if on_time else 'late:'} the limit, due {_show(incident.feedback_due, tz)}")
        rule = incident.policy.feedback.rule if incident.policy and incident.policy.feedback else None
        incident.note(Entry(event.time, "feedback given", event.actor, event.node, "; ".join(parts),
                            str(rule) if rule else "", event.id))

    def feedback_starts(self, incident: Incident, resolved: datetime) -> None:
        """A resolution starts the feedback limit (if the rules set one)."""
        incident.feedback_at = incident.feedback_by = None
        rule = incident.policy.feedback if incident.policy else None
        if rule is None or rule.within is None or incident.policy is None:
            incident.feedback_due = None
            return
        due = worktime.add(rule.within, resolved, timedelta(0), incident.policy.calendar,
                           self.engine.community.tz)
        incident.feedback_due = due.astimezone(self.engine.community.tz) if due is not None else None


def _show(when: datetime, tz: Any) -> str:
    return when.astimezone(tz if tz is not None else UTC).isoformat(timespec="minutes")
