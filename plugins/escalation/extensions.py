"""Extensions (延期): a handler asks for more time, a leader approves or refuses.

An approved extension adds what was asked to the current level's *resolve*
limit, counted like that limit (working days and hours when it is in working
time), and to the handler's own resolve limit when there is one (until the case
is reassigned: the new handler starts afresh); the deadline moves, the timeline says from when to when, and
``engine.explain("escalation:<approval id>")`` names the ``extension`` rule,
the level's limit and the inputs.  What extensions add holds until the clock
restarts (the case moves to another level or is reopened); a request still
waiting then lapses.  These are methods of the escalation state
(``EscalationState`` mixes ``Extensions`` in).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gridcore import Explanation

from . import timers
from .events import ExtensionApproved, ExtensionRefused, ExtensionRequested, IncidentEvent
from .incident import Entry, Extension, ExtensionRequest, Incident, extra_text
from .lifecycle import STATUS_ZH
from .records import Records


class Extensions(Records):
    """Requests for more time and their answers (a mixin of ``EscalationState``)."""

    def extension_step(self, incident: Incident, event: IncidentEvent) -> None:
        """Apply an extension request, approval or refusal to ``incident``."""
        waiting = incident.extension_request
        stale = self.extension_stale(incident, event)
        if stale is not None:
            # a stored step replayed after a late event changed the facts
            what = {ExtensionRequested: "request", ExtensionApproved: "approval"}.get(type(event), "refusal")
            incident.note(Entry(event.time, f"extension {what} ignored", event.actor, event.node, stale[0],
                                event=event.id))
            return
        if isinstance(event, ExtensionRequested):
            incident.extension_request = ExtensionRequest(
                event.id, event.time, event.actor, event.days, event.hours, event.reason
            )
            detail = f"{self._asked(incident, event.days, event.hours)}: {event.reason}"
            incident.note(Entry(event.time, "extension requested", event.actor, event.node, detail,
                                event=event.id))
        elif isinstance(event, ExtensionApproved):
            assert waiting is not None
            self._approve(incident, event, waiting)
        elif isinstance(event, ExtensionRefused):
            assert waiting is not None
            incident.extension_request = None
            asked = self._asked(incident, waiting.days, waiting.hours)
            incident.note(Entry(event.time, "extension refused", event.actor, event.node,
                                f"{asked} asked by {waiting.actor}: {event.reason}", event=event.id))

    def extension_stale(self, incident: Incident, event: IncidentEvent) -> tuple[str, str] | None:
        """Why ``event``, a stored extension request, approval or refusal replayed after a late event, no longer
        holds (``extension ... ignored``): its timeline line's detail, and the reason in English then Chinese;
        None: it holds."""
        waiting = incident.extension_request
        if incident.is_open and (waiting is None if isinstance(event, ExtensionRequested) else waiting is not None):
            return None
        detail = f"incident was {incident.status}" + (", no request waiting" if waiting is None else "")
        status_zh = STATUS_ZH.get(incident.status, incident.status)
        zh = f"事件当时{status_zh}" + ("，无待批的延期申请" if waiting is None else "")
        return detail, f"{detail} ({zh})"

    def lapse_extension(self, incident: Incident, when: datetime, why: str) -> None:
        """A request still waiting when the case leaves its level (or is resolved) lapses."""
        waiting = incident.extension_request
        if waiting is None:
            return
        incident.extension_request = None
        asked = self._asked(incident, waiting.days, waiting.hours)
        incident.note(Entry(when, "extension lapsed", waiting.actor, incident.current_node,
                            f"{asked} asked {_show(waiting.time, self.engine.community.tz)}: {why}"))

    def _asked(self, incident: Incident, days: int, hours: int) -> str:
        resolve = timers.applied(incident).get("resolve")
        working = bool(resolve and resolve.span.working)
        return extra_text(days, hours, working)

    def _approve(self, incident: Incident, event: ExtensionApproved, waiting: ExtensionRequest) -> None:
        tz = self.engine.community.tz
        before = timers.resolve_deadline(incident, tz)
        first = next((d for d in timers.deadlines(incident, tz) if d.limit == "resolve"), None)
        incident.extra_days += waiting.days  # the level's resolve limit, and the handler's own
        incident.extra_hours += waiting.hours
        incident.handler_extra_days += waiting.days
        incident.handler_extra_hours += waiting.hours
        incident.extension_request = None
        after = timers.resolve_deadline(incident, tz)
        policy = incident.policy
        rule = policy.extension if policy else None
        limit = timers.applied(incident).get("resolve")
        granted = Extension(
            event=event.id,
            request=waiting.event,
            time=event.time,
            approver=event.actor,
            requested_by=waiting.actor,
            days=waiting.days,
            hours=waiting.hours,
            level=incident.current_level,
            node=incident.current_node,
            before=before,
            after=after,
            rule=rule.rule if rule else None,
        )
        incident.extensions.append(granted)
        asked = self._asked(incident, waiting.days, waiting.hours)
        moved = (
            f"resolve due {_show(before, tz)} -> {_show(after, tz)}"
            if before is not None and after is not None
            else "the clock is paused: the resolve limit grows when it runs again"
        )
        incident.note(Entry(event.time, "extension approved", event.actor, event.node,
                            f"+{asked}: {moved}", str(rule.rule) if rule else "", event.id))
        inputs: dict[str, Any] = {
            "incident": incident.id,
            "requested by": waiting.actor,
            "asked": asked,
            "reason": waiting.reason,
            "approved by": event.actor,
            "level": f"{incident.current_level} {incident.current_node}",
            "resolve limit": str(limit.span) if limit else "(none)",
            "applies as": limit.source if limit else "(none)",
            "extensions so far": len(incident.extensions),
            "deadline before": _show(before, tz),
            "deadline after": _show(after, tz),
            # whose resolve deadline came first: the level's (from the arrival) or the handler's own
            # (from the assignment); both move
            "clock": first.clock if first is not None else "(paused)",
        }
        if rule is not None and rule.times is not None:
            inputs["at most"] = rule.times
        rules = tuple(r for r in (rule.rule if rule else None, limit.rule if limit else None) if r is not None)
        self.decisions[event.id] = Explanation(
            f"escalation:{event.id}",
            f"{event.actor} approved {asked} more for incident {incident.id} at {incident.current_level} "
            f"{incident.current_node}: {moved}",
            rules,
            inputs,
            incident.current_node,
        )


def _show(when: datetime | None, tz: Any) -> str:
    if when is None:
        return "(paused)"
    return when.astimezone(tz if tz is not None else UTC).isoformat(timespec="minutes")
