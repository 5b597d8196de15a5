"""The incident lifecycle: the escalation plugin's events (its published module).

An incident goes discover, consult, handle, feedback, evaluate (发现—会商—处置—
反馈—评价).  These classes are registered through ``gridcore_register_event_types``
like any plugin's, and other plugins may import this module to read them (the
points plugin pays for closed incidents, the assessment plugin counts them);
nothing else of the escalation plugin is theirs to import.

``INCIDENT`` is the ``incident`` record a ruleset expression may read (its
fields and their Chinese names), for any section that judges incidents;
``category_code`` is the code a report's ``category`` means under a ruleset
(a report may name a category by its title, ``水管漏水``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
from attrs import field

from gridcore.classes import frozen
from gridcore.errors import InvalidValueError
from gridcore.events import Event, between, non_empty
from gridcore.rules.schema import BOOL, DURATION, NUMBER, RECORD, TEXT, Field, Variable

if TYPE_CHECKING:
    from gridcore.rules import Ruleset


@frozen(kw_only=True)
class IncidentEvent(Event):
    """Base of every event about one incident, named by ``incident``."""

    kind: ClassVar[str] = "incident_event"
    #: The Chinese of the fields of the incident's events (a class gives its own where it means another
    #: thing: a return's ``to_node``, feedback's ``channel``).
    fields_zh: ClassVar[Mapping[str, str]] = {
        "incident": "事件编号", "rule": "规则", "to_node": "提级到的节点编号", "department": "条线部门",
        "handler": "办理人", "report": "并入的上报编号", "days": "延期天数", "hours": "延期小时数",
        "participants": "参加人", "decision": "商定结果", "description": "描述", "place": "地址编号",
        "score": "评价", "note": "说明",
    }
    incident: str = field(validator=non_empty)


@frozen(kw_only=True)
class IncidentReported(IncidentEvent):
    """A hazard or problem was found on patrol or reported by a resident.

    ``severity`` runs from 1 (minor) to 5 (grave). ``place`` is an optional place
    id (building, address) inside ``node``; ``channel`` says how it came in.
    """

    kind: ClassVar[str] = "incident_reported"
    title_zh: ClassVar[str] = "事件上报"
    doc_zh: ClassVar[str] = "巡查发现或居民上报的隐患或问题。"
    fields_zh: ClassVar[Mapping[str, str]] = {"channel": "上报渠道"}
    category: str = field(validator=non_empty)
    severity: int = field(default=1, validator=between(1, 5))
    place: str | None = None
    channel: str = "patrol"
    key_person: bool = False
    description: str = ""


@frozen(kw_only=True)
class RepeatReportJoined(IncidentEvent):
    """The report ``report`` joined the open incident ``incident`` as a repeat report (重复上报并入).

    Derived by the escalation plugin (actor ``system``) just after the report
    came in, when the ruleset's ``duplicates`` rule (``rule``, ``file:line``)
    joined it to an open incident of the same category at the same place.
    ``report`` is never an incident of its own: it is resolved, closed and
    reopened with ``incident``, whose severity becomes the higher of the two
    (``severity`` is the report's own).  A plugin that counts incidents counts
    it through ``incident`` (the assessment's serious incidents still open do).
    Only the escalation plugin derives it; it cannot be recorded.
    """

    kind: ClassVar[str] = "repeat_report_joined"
    title_zh: ClassVar[str] = "重复上报并入"
    doc_zh: ClassVar[str] = "上报 report 作为重复上报并入未结案的事件 incident。"
    report: str = field(validator=non_empty)
    severity: int = field(default=1, validator=between(1, 5))
    rule: str = ""


@frozen(kw_only=True)
class IncidentAccepted(IncidentEvent):
    """Someone responsible at the incident's current level took it on."""

    kind: ClassVar[str] = "incident_accepted"
    title_zh: ClassVar[str] = "受理"
    doc_zh: ClassVar[str] = "事件当前层级的负责人受理了事件。"


@frozen(kw_only=True)
class IncidentHandlingStarted(IncidentEvent):
    """Handling began (on site, consultation held)."""

    kind: ClassVar[str] = "incident_handling_started"
    title_zh: ClassVar[str] = "开始办理"
    doc_zh: ClassVar[str] = "开始办理（到达现场、已会商）。"
    note: str = ""


@frozen(kw_only=True)
class IncidentPaused(IncidentEvent):
    """The clock stops: waiting for the resident, for parts, ..."""

    kind: ClassVar[str] = "incident_paused"
    title_zh: ClassVar[str] = "暂停"
    doc_zh: ClassVar[str] = "时限暂停计时：等待居民、等待配件等。"
    reason: str = field(validator=non_empty)


@frozen(kw_only=True)
class IncidentResumed(IncidentEvent):
    """The clock runs again after a pause."""

    kind: ClassVar[str] = "incident_resumed"
    title_zh: ClassVar[str] = "恢复"
    doc_zh: ClassVar[str] = "暂停后时限恢复计时。"


@frozen(kw_only=True)
class IncidentEscalated(IncidentEvent):
    """The incident moved up a level, or out to a line department.

    Usually derived by the escalation plugin on ``tick`` (actor ``system``) or
    recorded by a handler who "blows the whistle".  ``to_node`` is the node now
    responsible; ``department`` is set when it was routed to a line department.
    ``rule`` names the rule (``file:line``) that decided, ``reason`` the facts.
    """

    kind: ClassVar[str] = "incident_escalated"
    title_zh: ClassVar[str] = "提级"
    doc_zh: ClassVar[str] = "事件提级到上一层级，或召集条线部门。"
    to_node: str = field(validator=non_empty)
    department: str | None = None
    reason: str = ""
    rule: str = ""


@frozen(kw_only=True)
class IncidentResolved(IncidentEvent):
    """The handler says the problem is solved."""

    kind: ClassVar[str] = "incident_resolved"
    title_zh: ClassVar[str] = "办结"
    doc_zh: ClassVar[str] = "办理人报告问题已办结。"
    note: str = ""


@frozen(kw_only=True)
class IncidentVerified(IncidentEvent):
    """The verifier checked the result with the residents' satisfaction score (1-5)."""

    kind: ClassVar[str] = "incident_verified"
    title_zh: ClassVar[str] = "核查"
    doc_zh: ClassVar[str] = "核查人核查办理结果，并记下居民的满意度（1-5）。"
    satisfaction: int = field(validator=between(1, 5))
    note: str = ""


@frozen(kw_only=True)
class SatisfactionRated(IncidentEvent):
    """A resident (the reporter or someone in the cell) rated the outcome (1-5)."""

    kind: ClassVar[str] = "satisfaction_rated"
    title_zh: ClassVar[str] = "评价"
    doc_zh: ClassVar[str] = "居民（上报人或本网格居民）对办理结果作出评价（1-5）。"
    score: int = field(validator=between(1, 5))


@frozen(kw_only=True)
class IncidentReopened(IncidentEvent):
    """An unsatisfied verification or a resident's complaint reopened the incident."""

    kind: ClassVar[str] = "incident_reopened"
    title_zh: ClassVar[str] = "返工"
    doc_zh: ClassVar[str] = "核查不满意或居民投诉，事件重新打开。"
    reason: str = ""


@frozen(kw_only=True)
class IncidentClosed(IncidentEvent):
    """The loop is closed."""

    kind: ClassVar[str] = "incident_closed"
    title_zh: ClassVar[str] = "结案"
    doc_zh: ClassVar[str] = "事件闭环完成，结案。"


def _some_time(instance: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    """``days`` and ``hours`` of an extension: whole, not negative, not both zero."""
    between(0, 366)(instance, attribute, value)
    if not isinstance(value, int):
        raise InvalidValueError(f"{attribute.name} must be a whole number, got {value!r}")
    if attribute.name == "hours" and instance.days == 0 and value == 0:
        raise InvalidValueError("an extension asks for some time: days or hours (or both) above 0")


@frozen(kw_only=True)
class ExtensionRequested(IncidentEvent):
    """The handler asks for more time to resolve (延期申请): ``days`` and ``hours`` more.

    They count like the level's resolve limit: working days and hours when the
    limit is in working time, calendar days and hours otherwise.  A leader of
    the role the ruleset's ``extension`` item names approves or refuses it.
    """

    kind: ClassVar[str] = "extension_requested"
    title_zh: ClassVar[str] = "延期申请"
    doc_zh: ClassVar[str] = "办理人申请延长办结时限：再延 days 天 hours 小时。"
    days: int = field(default=0, validator=_some_time)
    hours: int = field(default=0, validator=_some_time)
    reason: str = field(validator=non_empty)


@frozen(kw_only=True)
class ExtensionApproved(IncidentEvent):
    """The pending extension request was approved (延期批准): the resolve deadline moves."""

    kind: ClassVar[str] = "extension_approved"
    title_zh: ClassVar[str] = "延期批准"
    doc_zh: ClassVar[str] = "待批的延期申请获批准：办结时限随之后延。"
    note: str = ""


@frozen(kw_only=True)
class ExtensionRefused(IncidentEvent):
    """The pending extension request was refused (延期不批准): the deadline stays."""

    kind: ClassVar[str] = "extension_refused"
    title_zh: ClassVar[str] = "延期不批准"
    doc_zh: ClassVar[str] = "待批的延期申请未获批准：时限不变。"
    reason: str = field(validator=non_empty)


def _participants(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidValueError("participants must name at least one person, each a non-empty id")
    if len(set(value)) != len(value):
        raise InvalidValueError("participants names someone twice")


@frozen(kw_only=True)
class ConsultationHeld(IncidentEvent):
    """A consultation (会商) on the incident: who took part and what they decided.

    The micro-grid leader pulls the teams together (the grid's staff, the
    line department, residents' representatives); a ruleset may require one
    before handling starts for some categories, and the points plugin may pay
    each participant for taking part.
    """

    kind: ClassVar[str] = "consultation_held"
    title_zh: ClassVar[str] = "会商"
    doc_zh: ClassVar[str] = "就事件开会商议：谁参加、商定了什么。"
    participants: tuple[str, ...] = field(converter=tuple, validator=_participants)
    decision: str = field(validator=non_empty)



@frozen(kw_only=True)
class FeedbackGiven(IncidentEvent):
    """The reporter was told the result (反馈): what was done, and how they were told."""

    kind: ClassVar[str] = "feedback_given"
    title_zh: ClassVar[str] = "反馈"
    doc_zh: ClassVar[str] = "把办理结果告知上报人：做了什么、用什么方式告知。"
    fields_zh: ClassVar[Mapping[str, str]] = {"channel": "反馈方式"}
    note: str = ""
    channel: str = ""



@frozen(kw_only=True)
class IncidentReturned(IncidentEvent):
    """The case is sent back (退单) with a reason, and routed again.

    ``department``: a line department returns a case that is not its remit
    (it leaves the case); ``to_node``: the case belongs to another cell, where
    it is routed again as if reported there; neither: routed again from where
    it was reported (a level sends back what is not its matter).
    """

    kind: ClassVar[str] = "incident_returned"
    title_zh: ClassVar[str] = "退单"
    doc_zh: ClassVar[str] = "事件连同原因被退回，重新派单。"
    fields_zh: ClassVar[Mapping[str, str]] = {"to_node": "改派到的节点编号", "department": "改派到的条线部门"}
    reason: str = field(validator=non_empty)
    to_node: str | None = None
    department: str | None = None



@frozen(kw_only=True)
class IncidentAssigned(IncidentEvent):
    """The case is assigned (派单) to a named ``handler``, or reassigned; they take it on (accept).

    Recorded by a leader, or derived by the escalation plugin (actor
    ``system``) when a handler's own limit runs out and the ruleset passes the
    case to another role in the cell (``then pass to``): the escalation inside
    a cell before the case moves up.  ``rule`` names the rule that decided.
    """

    kind: ClassVar[str] = "incident_assigned"
    title_zh: ClassVar[str] = "派单"
    doc_zh: ClassVar[str] = "事件派给指定的办理人 handler（或改派），由其受理。"
    people: ClassVar[tuple[str, ...]] = ("handler",)
    handler: str = field(validator=non_empty)
    reason: str = ""
    rule: str = ""


#: Every event kind of the incident lifecycle, in the order of the loop.
INCIDENT_EVENT_TYPES: tuple[type[IncidentEvent], ...] = (
    IncidentReported,
    RepeatReportJoined,
    IncidentAccepted,
    IncidentHandlingStarted,
    IncidentPaused,
    IncidentResumed,
    IncidentEscalated,
    IncidentResolved,
    IncidentVerified,
    SatisfactionRated,
    IncidentReopened,
    IncidentClosed,
    ExtensionRequested,
    ExtensionApproved,
    ExtensionRefused,
    ConsultationHeld,
    FeedbackGiven,
    IncidentReturned,
    IncidentAssigned,
)

#: ``incident``: an incident as it stands, for ruleset expressions.
INCIDENT = Variable("incident", RECORD, doc="the incident concerned", zh=("事件",), doc_zh="所涉及的事件", fields=(
    Field("id", TEXT, "incident id", zh=("编号",), doc_zh="事件编号"),
    Field("category", TEXT, "the incident's category", zh=("类别",), vocabulary="category", doc_zh="事件类别"),
    Field("severity", NUMBER, "1 (minor) to 5 (grave)", zh=("严重程度",), doc_zh="1（轻微）到 5（严重）"),
    Field("level", TEXT, "the level now responsible", zh=("层级",), vocabulary="level", doc_zh="当前负责的层级"),
    Field("key_person", BOOL, "a key person is involved", zh=("重点人员",), doc_zh="涉及重点人员"),
    Field("channel", TEXT, "how it came in (patrol, phone, online ...)", zh=("渠道",), vocabulary="channel",
          doc_zh="事件来源（巡查、电话、网上……）"),
    Field("age", DURATION, "time since it was reported, pauses excluded", zh=("已用时",),
          doc_zh="自上报以来的时间，不含暂停"),
))


def channel_code(ruleset: Ruleset | None, written: str) -> str:
    """The channel code ``written`` (an ``IncidentReported.channel``, a ``FeedbackGiven.channel``) means under
    ``ruleset``: a code, or the name a ``channel`` item gives it (``channel phone: 电话``: ``电话`` -> ``phone``);
    anything else, and anything under no ruleset, as written (as ``category_code``)."""
    return written if ruleset is None else ruleset.id_of("channel", written)


def category_code(ruleset: Ruleset | None, written: str) -> str:
    """The category code ``written`` (an ``IncidentReported.category``) means under ``ruleset``.

    A code, or the title a ``category`` item gives it (``category leaking_pipe:
    水管漏水``: ``水管漏水`` -> ``leaking_pipe``); anything else, and anything
    under no ruleset, as written.  Pass the ruleset in force when the report
    came in (``engine.ruleset_at(event.time)``): the escalation plugin files
    the incident under this code, and ``incident.category`` in any section's
    rules holds it, so a plugin that keys incidents by category reads it here.
    """
    return written if ruleset is None else ruleset.id_of("category", written)
