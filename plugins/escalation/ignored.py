"""Stored escalations that no longer hold on the replayed log ("escalation ignored"), and why.

An escalation is a fact of the log: derived when a limit ran out on the log as
it then stood, it stays stored when an event dated before it is recorded late.
Replayed after that event, it may no longer hold (the late acceptance met the
limit, the case was resolved or had moved): it is kept in the timeline as
"escalation ignored" and moves nothing.  ``ignored_decision`` is what
``gridcore explain escalation:<its id>`` then says: that it was derived (or
recorded by hand), which event dated before it was recorded after it, and
therefore that it no longer counts, with the limit's rule and the exact times,
in English and Chinese.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from gridcore import Explanation, RuleRef
from gridcore.events import SYSTEM_ACTOR

from .incident import Entry, Incident

if TYPE_CHECKING:
    from . import timers
    from .events import IncidentEscalated, IncidentEvent, RepeatReportJoined

#: Timeline lines that record no step of the case's own (what the plugin notes beside the steps).
_NOT_STEPS = frozenset(("escalation ignored", "reopen ignored", "return ignored", "step ignored", "join ignored",
                        "notified", "routed",
                        "not routed", "no policy"))

#: A step's name as staff read it in Chinese (the timeline's ``what``).
_STEP_ZH = {"accepted": "受理", "resolved": "办结", "handling started": "开始办理", "returned": "退单",
            "escalated": "上报", "assigned": "派单", "paused": "暂停", "resumed": "恢复", "verified": "核查",
            "closed": "结案", "reopened": "重新办理", "reported": "上报事件", "repeat report": "重复上报",
            "extension approved": "延期批准", "consulted": "会商", "extension requested": "申请延期",
            "extension refused": "不予延期", "consultation held": "会商", "feedback given": "反馈",
            "satisfaction rated": "评价"}


def at(when: datetime, day_of: datetime) -> str:
    """``HH:MM`` on the day of ``day_of`` (in its zone), else ``YYYY-MM-DD HH:MM``."""
    local = when.astimezone(day_of.tzinfo)
    return f"{local:%H:%M}" if local.date() == day_of.date() else f"{local:%Y-%m-%d %H:%M}"


def name_late(inputs: dict[str, Any], late: Entry, stored: datetime) -> tuple[str, str]:
    """Name ``late``, a step dated before a stored event yet recorded after it, in ``inputs`` (``late
    event``); its time as written beside the stored event's (``at``), and its step in Chinese."""
    inputs["late event"] = f"{late.event}: {late.what} at {late.time:%Y-%m-%d %H:%M} by {late.actor}"
    return at(late.time, stored), _STEP_ZH.get(late.what, late.what)


def resolved_in_time(incident: Incident, event: IncidentEscalated) -> str | None:
    """``limit_met``'s reason for a stored resolve breach of a case since resolved before it (else ``None``)."""
    if event.actor == SYSTEM_ACTOR and event.reason.startswith("not resolved within") \
            and incident.resolved_at is not None and incident.resolved_at <= event.time:
        return limit_met(incident, event, None)
    return None


def limit_met(incident: Incident, event: IncidentEscalated, due: timers.Due | None) -> str:
    """The timeline's reason for ignoring ``event``, a breach that no longer holds on the replayed log."""
    if event.reason.startswith("not accepted within") and incident.accepted_at is not None \
            and incident.accepted_at <= event.time:
        when = at(incident.accepted_at, event.time)
        return f"accepted at {when}, within the limit (recorded late) ({when} 已受理，未超时限，补录)"
    if event.reason.startswith("not resolved within") and incident.resolved_at is not None \
            and incident.resolved_at <= event.time:
        when = at(incident.resolved_at, event.time)
        return f"resolved at {when}, within the limit (recorded late) ({when} 已办结，未超时限，补录)"
    if due is not None and due.kind == "breach":
        when = at(due.time, event.time)
        return (f"its limit no longer ran out then (recorded late); the next falls due at {when} "
                f"(补录后此时未超时限，下一时限 {when})")
    return "its limit no longer ran out then (recorded late) (补录后此时未超时限)"


def late_step(incident: Incident, event: IncidentEscalated) -> Entry | None:
    """The step, dated before ``event`` and recorded after it, that met the limit it names (else ``None``).

    A breach of the accept (resolve) limit is derived only while the log holds
    no acceptance (resolution) before it: the one there on replay was
    recorded after it.  (The log keeps no time of recording, only this order.)
    """
    if event.actor != SYSTEM_ACTOR:
        return None
    if event.reason.startswith("not accepted within") and incident.accepted_at is not None \
            and incident.accepted_at <= event.time:
        what, when = "accepted", incident.accepted_at
    elif event.reason.startswith("not resolved within") and incident.resolved_at is not None \
            and incident.resolved_at <= event.time:
        what, when = "resolved", incident.resolved_at
    else:
        return None
    return next((e for e in reversed(incident.timeline) if e.what == what and e.time == when and e.event), None)


def latest_step(incident: Incident, event: IncidentEscalated) -> Entry | None:
    """The case's latest step by a person dated at or before ``event`` (its own line left out)."""
    for entry in reversed(incident.timeline):
        if entry.time <= event.time and entry.event and entry.event != event.id and entry.actor != SYSTEM_ACTOR \
                and entry.what not in _NOT_STEPS:
            return entry
    return None


def limit_rule(incident: Incident, written: str) -> RuleRef | None:
    """The rule ``written`` (``file:line``, as an escalation names it) in the case's policies."""
    if not written:
        return None
    for policy in (incident.limits, incident.policy):
        if policy is None:
            continue
        for group in (policy.limits, policy.category_limits, policy.department_limits, policy.handler_limits,
                      policy.immediate, policy.repeats):
            for item in group:
                if str(item.rule) == written:
                    return item.rule
    return None


def _split(why: str) -> tuple[str, str]:
    """A reason as ``(English, Chinese)``: the Chinese is the bracketed part at its end."""
    if why.endswith(")") and " (" in why:
        english, _, chinese = why.rpartition(" (")
        if any("\u4e00" <= c <= "\u9fff" for c in chinese):
            return english, chinese[:-1]
    return why, why


def ignored_decision(incident: Incident, event: IncidentEscalated, why: str, late: Entry | None = None,
                     ) -> Explanation:
    """What ``explain`` says of ``event``, a stored escalation of ``incident`` ignored on replay for ``why``
    (``late``: the step recorded after it, when the caller knows it; else ``late_step``)."""
    derived = event.actor == SYSTEM_ACTOR
    when = f"{event.time:%Y-%m-%d %H:%M}"
    late = late if late is not None else late_step(incident, event)
    rule = limit_rule(incident, event.rule)
    rules = (rule,) if rule is not None else ()
    by = "derived by the system" if derived else f"recorded by {event.actor}"
    by_zh = "系统派生的上报" if derived else f"{event.actor} 录入的上报"
    stays = f"{incident.current_level} {incident.current_node}"
    why_en, why_zh = _split(why)
    inputs: dict[str, Any] = {
        "incident": incident.id,
        "escalation": f"{event.id} at {when}, {by}",
        "its reason": event.reason or "(none)",
        "ignored because": why,
        "counts": "no: it moves nothing, is no breach and no escalation in the metrics (不计入：不移动事件，"
                  "不算超时，不算上报)",
        "case then": f"{incident.status} at {stays}",
    }
    if event.rule and rule is None:
        inputs["its rule"] = event.rule
    head = f"escalation {event.id} of incident {event.incident} at {when} ({by}: {event.reason or 'no reason given'})"
    tail = f"It no longer counts: no breach, no escalation in the metrics; the case stayed at {stays}"
    tail_zh = f"本次上报不再计入，不算超时，事件留在 {stays}"
    if late is None:
        # (the case moved, or was resolved or closed, before it: which of its steps was recorded after
        # it the log does not say; its latest step by a person before it is named)
        latest = latest_step(incident, event)
        if latest is not None:
            inputs["latest step before it"] = (f"{latest.event}: {latest.what} at {latest.time:%Y-%m-%d %H:%M} "
                                               f"by {latest.actor}")
        summary = (f"{head} is ignored: replayed in time order with the events recorded after it, {why_en}. "
                   f"{tail} ({by_zh}已忽略：按时间顺序重放补录的事件后，{why_zh}。{tail_zh})")
        return Explanation(f"escalation:{event.id}", summary, rules, inputs, "ignored (已忽略)")
    then, step_zh = name_late(inputs, late, event.time)
    # (the log keeps no time of recording, only the order: the escalation was stored before the step
    # dated earlier, else the step would have been on the log it was derived from)
    inputs["recorded"] = (f"after escalation {event.id} was stored (dated {when}), though dated {then} "
                          f"(补录：{then} 的{step_zh}在本次上报之后才录入)")
    summary = (f"{head} is ignored: {late.what} at {then} ({late.event}, by {late.actor}), dated before it, "
               f"was recorded after it; replayed in time order, {why_en}. {tail} "
               f"({by_zh}已忽略：{then} 的{step_zh}在其后补录；按时间顺序重放，{why_zh}。{tail_zh})")
    return Explanation(f"escalation:{event.id}", summary, rules, inputs, "ignored (已忽略)")


#: A derived kind's name in an explanation, English and Chinese.
_DERIVED_NAME = {"reopen": ("reopening", "系统派生的返工"), "pass": ("pass inside the cell", "系统派生的网格内转办")}


def ignored_derived(incident: Incident, event: IncidentEvent, kind: str, why: str) -> Explanation:
    """What ``explain`` says of ``event``, a stored reopening (``kind`` ``reopen``) or pass inside the cell
    (``pass``) of ``incident`` that no longer holds on the replayed log, for ``why`` (English (Chinese))."""
    name, name_zh = _DERIVED_NAME[kind]
    when = f"{event.time:%Y-%m-%d %H:%M}"
    reason = str(getattr(event, "reason", "")) or "no reason given"
    why_en, why_zh = _split(why)
    stays = f"{incident.status} at {incident.current_level} {incident.current_node}"
    holder = incident.accepted_by or incident.assignee
    inputs: dict[str, Any] = {
        "incident": incident.id,
        kind: f"{event.id} at {when}, derived by the system",
        "its reason": reason,
        "ignored because": why,
        "counts": "no: it changes nothing and counts in no metric (不计入：不改变事件，不计入任何指标)",
        "case then": stays + (f", with {holder}" if holder else ""),
    }
    late = derived_cause(incident, event, why)
    if late is None:
        summary = (f"{name} {event.id} of incident {event.incident} at {when} (derived by the system: {reason}) "
                   f"is ignored: replayed in time order with the events recorded after it, {why_en}. It no longer "
                   f"counts; the case stayed {stays} ({name_zh}已忽略：按时间顺序重放补录的事件后，{why_zh}。"
                   f"不再计入，事件保持原状)")
    else:
        then, late_zh = name_late(inputs, late, event.time)
        inputs["recorded"] = (f"after {name} {event.id} was stored (dated {when}), though dated {then} "
                              f"(补录：{then} 的{late_zh}在本次{name_zh.removeprefix('系统派生的')}之后才录入)")
        summary = (f"{name} {event.id} of incident {event.incident} at {when} (derived by the system: {reason}) "
                   f"is ignored: {late.what} at {then} ({late.event}, by {late.actor}), dated before it, was "
                   f"recorded after it; replayed in time order, {why_en}. It no longer counts; the case stayed "
                   f"{stays} ({name_zh}已忽略：{then} 的{late_zh}在其后补录；按时间顺序重放，{why_zh}。"
                   f"不再计入，事件保持原状)")
    if kind == "pass":
        rule = limit_rule(incident, str(getattr(event, "rule", "")))
    else:
        rule = incident.policy.reopen.rule if incident.policy is not None else None
    return Explanation(f"escalation:{event.id}", summary, (rule,) if rule is not None else (), inputs,
                       "ignored (已忽略)")


def derived_cause(incident: Incident, event: IncidentEvent, why: str) -> Entry | None:
    """The step by a person, dated at or before ``event`` (a stored reopening or pass that no longer holds
    for ``why``), recorded after it, that the replayed case reads: the verification now just before a
    reopening, the assignment or acceptance that restarted a handler's clock, else the step that set
    the case's status (a verification, for a case a late one sent back); ``None`` if none is."""
    if "verification" in why:
        groups: tuple[tuple[str, ...], ...] = (("verified",),)
    elif "handler's limit" in why:  # (a handler's clock runs from the latest assignment)
        groups = (("assigned",), ("accepted", "returned", "escalated", "extension approved"))
    else:
        groups = ((*_SET_BY.get(incident.status, ()), "verified"),)  # (a late verification reopens)
    for whats in groups:
        found = _latest(incident, event, whats)
        if found is not None and found.actor != SYSTEM_ACTOR:
            return found
    return None


def joined_step_decision(primary: Incident, event: IncidentEvent, step: str) -> Explanation:
    """What ``explain`` says of ``event`` (its ``step``: ``accepted``, ``resolved``...), a stored step of
    a report that a report dated earlier, recorded after it, made a repeat report of ``primary``.

    Names the case it joined, the join (``joined:<report event>``) and its rule, the earlier report
    recorded late, and why the step is kept in the case's timeline but ignored: a step on a repeat
    report is refused (the case is handled as one), so had the earlier report been on the log when the
    step was recorded, it would have been refused."""
    report = event.incident
    when = f"{event.time:%Y-%m-%d %H:%M}"
    step_zh = _STEP_ZH.get(step, step)
    join = next((e for e in primary.timeline if e.what == "repeat report" and e.event
                 and e.detail.startswith(f"{report} joined")), None)
    opened = next((e for e in primary.timeline if e.what == "reported" and e.event), None)
    inputs: dict[str, Any] = {"incident": primary.id, "step": f"{event.id}: {step} of {report} at {when} by "
                                                             f"{event.actor}"}
    joined_by = f"joined:{join.event}" if join is not None else "(its join)"
    if join is not None:
        inputs["joined"] = (f"{joined_by}: report {report} ({join.event}, {join.time:%Y-%m-%d %H:%M}) joined "
                            f"{primary.id} as a repeat report (rule {join.rule})")
    if opened is not None:
        inputs["late event"] = (f"{opened.event}: {primary.id} reported at {opened.time:%Y-%m-%d %H:%M} by "
                                f"{opened.actor}, recorded after the step (补录)")
    inputs["ignored because"] = ("a step on a repeat report is refused: the case is handled as "
                                 f"{primary.id} (重复上报不单独办理，按 {primary.id} 办理)")
    inputs["counts"] = (f"no: it changes nothing in {primary.id} and counts in no metric "
                        "(不计入：不改变事件，不计入任何指标)")
    rules: tuple[RuleRef, ...] = ()
    if primary.policy is not None and primary.policy.duplicates is not None:
        rules = (primary.policy.duplicates.rule,)
    late = (f"{primary.id}'s report ({opened.event}), dated {opened.time:%Y-%m-%d %H:%M} at the same place, "
            f"before {report}'s, was recorded after this step" if opened is not None
            else f"{primary.id}'s report, dated before {report}'s at the same place, was recorded after this step")
    late_zh = (f"{primary.id} 的上报（{opened.event}，{opened.time:%Y-%m-%d %H:%M}）" if opened is not None
               else f"{primary.id} 的上报")
    summary = (f"{step} {event.id} of {report} at {when} (by {event.actor}) is kept in {primary.id}'s timeline "
               f"and ignored: report {report} was joined to case {primary.id} as a repeat report by {joined_by}, "
               f"because {late}. It is ignored because a step on a repeat report is refused (the case is handled "
               f"as {primary.id}): had that report been on the log when the step was recorded, the step would "
               f"have been refused. It changes nothing in {primary.id} and counts in no metric "
               f"({report} 的{step_zh}保留在 {primary.id} 的办理过程中，但已忽略：{late_zh}日期更早、同一地点，"
               f"在此步骤之后才补录，{report} 因此由 {joined_by} 作为重复上报并入 {primary.id}；重复上报不单独办理，"
               f"此步骤不改变事件，不计入任何指标)")
    return Explanation(f"escalation:{event.id}", summary, rules, inputs, "ignored (已忽略)")


#: Which steps of the case a refusal reads, by a phrase of its reason (the first that matches); else the
#: steps that set the case's status (``_SET_BY``).
_ABOUT = (
    ("was already accepted by", ("accepted",)),
    ("is already paused", ("paused",)),
    ("is not paused", ("resumed", "resolved")),
    ("is assigned to", ("assigned",)),
    ("is already with", ("assigned", "accepted")),
    ("was already verified", ("verified",)),
    ("was already given by", ("feedback given",)),
    ("extension request", ("extension requested", "extension approved", "extension refused")),
    ("extension", ("extension approved",)),
    ("holds no role there", ("escalated", "returned", "reopened", "assigned")),
    ("is not on incident", ("returned", "escalated")),
)
_SET_BY = {"reported": ("escalated", "returned", "reopened", "assigned", "verified", "reported"), "accepted": ("accepted",),
           "handling": ("handling started",), "resolved": ("resolved",), "verified": ("verified",),
           "closed": ("closed",)}


def refusal_cause(incident: Incident, event: IncidentEvent, why: str) -> Entry | None:
    """The step of the replayed case, dated at or before ``event``, that its refusal ``why`` reads: the
    latest acceptance for ``already accepted``, the latest move for a person no longer responsible, else
    the latest step that set the case's status (``None`` if the case has no such step)."""
    whats = next((steps for phrase, steps in _ABOUT if phrase in why), _SET_BY.get(incident.status, ()))
    return _latest(incident, event, whats)


def _latest(incident: Incident, event: IncidentEvent, whats: tuple[str, ...]) -> Entry | None:
    """The case's latest step among ``whats`` dated at or before ``event``: by a person if one is (what the
    system derived follows from a person's step), else by the system."""
    found = None
    for entry in reversed(incident.timeline):
        if entry.time <= event.time and entry.event and entry.event != event.id and entry.what in whats:
            if entry.actor != SYSTEM_ACTOR:
                return entry
            found = found or entry
    return found


def refused_step_decision(incident: Incident, event: IncidentEvent, step: str, why: str,
                          late: Entry | None) -> Explanation:
    """What ``explain`` says of ``event`` (its ``step``), a stored step of ``incident`` that the replayed log,
    in time order, refuses for ``why`` (English (Chinese)): ``late`` is the step dated before it that its
    refusal reads, on the log before it only because it was recorded after it (or was made to hold by an
    event that was)."""
    when = f"{event.time:%Y-%m-%d %H:%M}"
    step_zh = _STEP_ZH.get(step, step)
    why_en, why_zh = _split(why)
    stays = f"{incident.status} at {incident.current_level} {incident.current_node}"
    inputs: dict[str, Any] = {"incident": incident.id, "step": f"{event.id}: {step} at {when} by {event.actor}",
                              "refused in time order": why}
    head = f"{step} {event.id} of incident {incident.id} at {when} (by {event.actor})"
    tail = (f"It is kept in the timeline but changes nothing and counts in no metric; the case stayed {stays}")
    tail_zh = "此步骤保留在办理过程中，但不改变事件，不计入任何指标"
    if late is None:
        summary = (f"{head} is ignored: replayed in time order with the events recorded after it, it is refused: "
                   f"{why_en}. {tail} ({event.actor} 的{step_zh}已忽略：按时间顺序重放补录的事件后，此步骤应被拒绝："
                   f"{why_zh}。{tail_zh})")
    else:
        then, late_zh = name_late(inputs, late, event.time)
        # (the step was accepted when it was stored: the log it was judged on did not hold the step its
        # refusal reads, or not as it now stands)
        inputs["recorded"] = (f"after step {event.id} was stored (dated {when}), though dated {then} "
                              f"(补录：{then} 的{late_zh}在此步骤之后才录入)")
        summary = (f"{head} is ignored: {late.what} at {then} ({late.event}, by {late.actor}), dated before it, "
                   f"was recorded after it; replayed in time order, the step is refused: {why_en}. {tail} "
                   f"({event.actor} 的{step_zh}已忽略：{then} 的{late_zh}在其后补录；按时间顺序重放，此步骤应被拒绝："
                   f"{why_zh}。{tail_zh})")
    inputs["counts"] = "no: it changes nothing and counts in no metric (不计入：不改变事件，不计入任何指标)"
    inputs["case then"] = stays
    return Explanation(f"escalation:{event.id}", summary, (), inputs, "ignored (已忽略)")


def stale_why(event: RepeatReportJoined, primary: Incident) -> str:
    """Why ``event``, a stored join of a report to a case now itself a repeat report of ``primary``, is
    ignored (English (Chinese))."""
    return (f"{event.incident} is itself a repeat report of {primary.id} (recorded late); {event.report} "
            f"joined {primary.id} ({event.incident} 已作为重复上报并入 {primary.id}，补录)")


def joined_why(event: IncidentEvent, primary: Incident) -> str:
    """Why ``event``, a stored step of a report a late, earlier one made a repeat report of ``primary``, is
    ignored (English (Chinese))."""
    return (f"{event.incident} is a repeat report of {primary.id} (recorded late) "
            f"({event.incident} 已作为重复上报并入 {primary.id}，补录)")


def stale_join_decision(primary: Incident, event: RepeatReportJoined, derived_now: str) -> Explanation:
    """What ``explain`` says of ``event``, a stored join of report ``event.report`` to ``event.incident``
    that a report dated earlier at the same place, recorded after it, made a repeat report of ``primary``:
    the report is in ``primary`` now, under the join derived on the replayed log (``derived_now``)."""
    when = f"{event.time:%Y-%m-%d %H:%M}"
    report, was = event.report, event.incident
    opened = next((e for e in primary.timeline if e.what == "reported" and e.event), None)
    inputs: dict[str, Any] = {"incident": primary.id, "join": f"{event.id} at {when}, derived by the system: "
                                                             f"report {report} joined {was}"}
    if opened is not None:
        inputs["late event"] = f"{opened.event}: {primary.id} reported at {opened.time:%Y-%m-%d %H:%M} by {opened.actor}"
        inputs["recorded"] = (f"after join {event.id} was stored (dated {when}), though dated "
                              f"{at(opened.time, event.time)} (补录：{primary.id} 的上报在本次并入之后才录入)")
    inputs["joined now"] = f"{derived_now}: {report} joined {primary.id}"
    inputs["counts"] = (f"no: {report} is handled as {primary.id}; the join changes nothing "
                        "(不计入：按主事件办理，本次并入不改变任何事件)")
    late = (f"{primary.id}'s report ({opened.event}, by {opened.actor}), dated {at(opened.time, event.time)} at the "
            f"same place, was recorded after it" if opened is not None
            else f"{primary.id}'s report, dated earlier at the same place, was recorded after it")
    summary = (f"repeat report join {event.id} at {when} (derived by the system: report {report} joined {was}) is "
               f"ignored: {late}; replayed in time order, {was} is itself a repeat report of {primary.id}, and "
               f"{report} joined {primary.id} ({derived_now}). It changes nothing: {report} is handled as "
               f"{primary.id} (系统派生的重复上报并入已忽略：{primary.id} 的上报日期更早、同一地点，在其后补录；按时间顺序"
               f"重放，{was} 本身已并入 {primary.id}，{report} 由 {derived_now} 并入 {primary.id}，按 {primary.id} 办理)")
    rules = (primary.policy.duplicates.rule,) if primary.policy is not None and primary.policy.duplicates else ()
    return Explanation(f"escalation:{event.id}", summary, rules, inputs, "ignored (已忽略)")
