"""The JSON API (``/api/v1``): every action the command line offers, and every read.

Actions are recorded as events through the engine, as the token's member:
the engine's own validation and refusals apply, so a refused action answers a
problem document with every reason and changes nothing.  Reads come from the
plugins' public APIs (``gridcore_points``, ``gridcore_escalation``,
``gridcore_assessment``) on the engine kept open.  ``GET /api/v1/openapi.json``
describes it all.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

import gridcore_assessment
import gridcore_escalation
import gridcore_points
from gridcore import Engine, FixedClock
from gridcore.engine import DECIDED_WITH
from gridcore.errors import GridcoreError, PluginError, chinese_first, chinese_first_line
from gridcore.events import SYSTEM_ACTOR, event_order
from gridcore.periods import period_containing

from . import auth, intake
from .context import Service, is_staff, json_body, may_read_account, service_of, staff_over
from .jsonable import SAID, explanation, explanation_zh, plain, table
from .live import share_test_clock
from .openapi import AUTH_ANONYMOUS, AUTH_NONE, documented, obj
from .problems import Problem, language_of, period_written

PREFIX = "/api/v1"

#: step in the URL -> event kind it records
STEPS: Mapping[str, str] = {
    "accept": "incident_accepted",
    "handle": "incident_handling_started",
    "pause": "incident_paused",
    "resume": "incident_resumed",
    "escalate": "incident_escalated",
    "resolve": "incident_resolved",
    "verify": "incident_verified",
    "rate": "satisfaction_rated",
    "reopen": "incident_reopened",
    "close": "incident_closed",
    "consult": "consultation_held",
    "feedback": "feedback_given",
    "assign": "incident_assigned",
    "return": "incident_returned",
    "extend": "extension_requested",
    "approve-extension": "extension_approved",
    "refuse-extension": "extension_refused",
}
#: fields every event has, which the service fills in itself
FILLED = ("id", "time", "actor", "node", "incident")


def ok(doc: Any, status: int = 200, lang: str = "en") -> JSONResponse:
    """A JSON answer (exact numbers kept exact, times ISO 8601); ``Content-Language: zh`` when its
    human-readable fields were said in Chinese for a request preferring it (``lang="zh"``)."""
    return JSONResponse(plain(doc), status_code=status, headers={"Content-Language": "zh"} if lang == "zh" else None)


def require_plugin(engine: Engine, name: str) -> None:
    """404 ``not-enabled`` unless plugin ``name`` is attached to the engine."""
    try:
        engine.state(name)
    except PluginError:
        raise Problem("not-enabled", f"the {name} plugin is not enabled in this service",
                      f"本服务未启用 {name} 插件") from None


def _time(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise Problem("invalid-request", f"{what} {text!r} is not a time like 2025-03-01T09:00+08:00",
                      f"{what} {text!r} 不是时间，应写成 2025-03-01T09:00+08:00 的样式") from None
    if when.tzinfo is None:
        raise Problem("invalid-request", f"{what} {text!r} has no time zone; add one, e.g. +08:00",
                      f"{what} {text!r} 缺少时区，请加上，例如 +08:00")
    return when


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Problem("invalid-request", f"{key} must be text, got {value!r}", f"{key} 应为文字")
    return value


def default_month(engine: Engine) -> str:
    """The month of the latest event (not after now): a store of last quarter shows last quarter."""
    now = engine.clock.now()
    latest = engine.latest_event_time
    when = min(latest, now) if latest is not None else now
    return period_containing("month", when, engine.community.tz).label


# ---------------------------------------------------------------- actions


EVENT_BODY = {
    "description": "An event document (any registered kind, see components.schemas event.*); "
    "`actor` defaults to the token's member and must be it, `time` defaults to now, `id` to a fresh one. "
    "Or {\"events\": [...]} to record a batch (refusals are listed, the rest stored).",
    "type": "object",
    "required": ["kind"],
}


@documented("Record an event (or a batch) as the token's member", body=EVENT_BODY, tag="actions")
async def record_events(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    body = await json_body(request)
    assert who.member is not None
    batch = body.get("events")
    if batch is not None:
        if not isinstance(batch, list) or not all(isinstance(d, dict) for d in batch):
            raise Problem("invalid-request", "events must be a list of event objects",
                          "events 应为事件对象的列表")
        lang = language_of(request.headers)
        return ok(await service.act(lambda engine: _record_batch(engine, who.member or "", batch, lang)), lang=lang)
    result = await service.act(lambda engine: _record_one(engine, who.member or "", body))
    return ok(result, 201 if result["stored"] else 200)


def _as_member(engine: Engine, member: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    actor = doc.get("actor", member)
    if actor != member:
        raise Problem(
            "forbidden",
            f"events are recorded as the token's member {member}, not {actor!r}",
            f"事件只能以令牌所属成员 {member} 的身份记录",
        )
    kind = doc.get("kind")
    ident = doc.get("id")
    # A retry of an event the service stamped keeps the time it was stored with,
    # so the same request is a duplicate (not a conflict on "time").
    when = intake.stamp(engine, ident if "time" not in doc and isinstance(ident, str) else None)
    return {
        "id": f"api:{member}:{kind}:{when.isoformat()}:{secrets.token_hex(3)}",
        "time": when.isoformat(),
        **doc,
        "actor": member,
    }


def _record_one(engine: Engine, member: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    event = _as_member(engine, member, doc)
    stored, derived = intake.record(engine, event)
    return {"event": event["id"], "stored": stored, "derived": derived}


def _record_batch(engine: Engine, member: str, docs: list[dict[str, Any]], lang: str = "en") -> dict[str, Any]:
    """A batch recorded: what was stored, and each refused event with every reason (for ``lang="zh"`` each
    reason Chinese first, as a refused event's problem gives them)."""
    events = [_as_member(engine, member, doc) for doc in docs]
    summary = engine.record_many(events)
    said = (lambda reason: chinese_first(reason)) if lang == "zh" else (lambda reason: reason)
    return {
        "stored": summary.accepted,
        "already_stored": summary.duplicates,
        "derived": summary.derived,
        "refused": [{"event": r.event_id, "reasons": [said(reason) for reason in r.reasons]} for r in summary.refused],
    }


REPORT_FIELDS = ("category", "severity", "description", "node", "place", "address", "lat", "long",
                 "key_person", "incident", "event_id")
REPORT_BODY = obj(
    {
        "category": {"type": "string", "description": "code (leaking_pipe) or name in force (水管漏水)"},
        "severity": {"type": "integer", "minimum": 1, "maximum": 5},
        "description": {"type": "string"},
        "node": {"type": "string"},
        "place": {"type": "string", "description": "a place id of the roster"},
        "address": {"type": "string", "description": "a place's name or id as on the roster"},
        "lat": {"type": "number"},
        "long": {"type": "number"},
        "key_person": {"type": "boolean"},
        "incident": {"type": "string", "description": "the incident id (default: a fresh one)"},
        "event_id": {"type": "string"},
    },
    ["category"],
)


@documented(
    "Report an incident (anonymous residents too: recorded as the intake member, answered with a report key)",
    auth=AUTH_ANONYMOUS,
    body=REPORT_BODY,
    tag="actions",
)
async def report_incident(request: Request) -> Response:
    service = service_of(request)
    who = await service.caller(request)
    body = await json_body(request)
    intake.fields(body, REPORT_FIELDS)
    actor = _reporter(service, who)
    severity = body.get("severity", 1)
    lat, lon = _coordinates(body.get("lat"), body.get("long"))

    def act(engine: Engine) -> dict[str, Any]:
        node, place = intake.locate(
            engine, node=_text(body, "node"), place=_text(body, "place"), address=_text(body, "address"),
            lat=lat, lon=lon,
        )
        code, _ = intake.category_code(engine, _text(body, "category") or "", strict=False, node=node)
        ident, stored = intake.report(
            engine, actor=actor, category=code, node=node, place=place,
            description=_text(body, "description") or "", severity=severity, channel="api",
            key_person=bool(body.get("key_person", False)), incident=_text(body, "incident"),
            event_id=_text(body, "event_id"),
        )
        view = gridcore_escalation.incident(engine, ident)
        answer: dict[str, Any] = {"incident": ident, "stored": stored, "node": node, "place": place,
                                  "joined": view.id if view.id != ident else None}
        if who.anonymous and stored:
            answer["report_key"] = auth.new_report_key(engine.store, ident)
        answer["status"] = plain(view)
        return answer

    answer = await service.act(act)
    return ok(answer, 201 if answer["stored"] else 200)


def _reporter(service: Service, who: auth.Caller) -> str:
    if who.member is not None:
        return who.member
    if service.settings.intake is None:
        raise Problem(
            "unauthorized",
            "anonymous reports are not taken here (no intake member): send a token",
            "本服务不受理匿名上报，请使用令牌",
        )
    return service.settings.intake


def _coordinates(lat: Any, lon: Any) -> tuple[float | None, float | None]:
    if lat is None and lon is None:
        return None, None
    try:
        return float(lat), float(lon)
    except (TypeError, ValueError):
        raise Problem("invalid-request", f"lat and long must both be numbers, got {lat!r}, {lon!r}",
                      "经纬度 lat 和 long 都应为数字") from None


@documented(
    "Take one step of an incident's loop (accept, handle, pause, resume, escalate, resolve, verify, rate, "
    "reopen, close, consult, feedback, assign, return, extend, approve-extension, refuse-extension) as the "
    "token's member; anonymous reporters may rate with their report_key",
    auth=AUTH_ANONYMOUS,
    body={"type": "object", "description": "the step's own fields (note, reason, to_node, department, "
          "satisfaction, score, participants, decision, channel, handler, days, hours), optionally node, "
          "event_id, and report_key for an anonymous rating"},
    tag="actions",
)
async def incident_step(request: Request) -> Response:
    service = service_of(request)
    step = request.path_params["step"]
    incident = request.path_params["incident"]
    if step not in STEPS:
        raise Problem("not-found", f"no step {step!r}; steps are {', '.join(STEPS)}",
                      f"没有 {step!r} 这一步，可用的步骤：{'、'.join(STEPS)}")
    who = await service.caller(request)
    body = await json_body(request, required=False)
    key = body.pop("report_key", None)

    def act(engine: Engine) -> dict[str, Any]:
        actor = who.member
        if actor is None:
            if step != "rate" or service.settings.intake is None:
                raise Problem(
                    "forbidden" if who.anonymous and step == "rate" else "unauthorized",
                    "anonymous residents may only report, and rate what they reported (with its report_key)",
                    "匿名居民只能上报事件，并凭上报凭证评价自己上报的事件",
                )
            if not isinstance(key, str) or not auth.report_key_fits(engine.store, incident, key):
                raise Problem(
                    "forbidden",
                    f"the report_key does not fit incident {incident}: anonymous residents rate only what they reported",
                    "上报凭证与该事件不符：匿名居民只能评价自己上报的事件",
                )
            actor = service.settings.intake
        return _step(engine, incident, step, actor, body)

    result = await service.act(act)
    return ok(result, 201 if result["stored"] else 200)


def _step(engine: Engine, incident: str, step: str, actor: str, body: Mapping[str, Any]) -> dict[str, Any]:
    kind = STEPS[step]
    cls = engine.codec.kinds[kind]
    own = tuple(f.name for f in attrs.fields(cls) if f.name not in FILLED)
    intake.fields(body, (*own, "node", "event_id"))
    view = gridcore_escalation.incident(engine, incident)
    event_id = _text(body, "event_id")
    when = intake.stamp(engine, event_id)
    doc = {
        "kind": kind,
        "id": event_id or f"{incident}:{step}:{when.isoformat()}",
        "time": when.isoformat(),
        "actor": actor,
        "node": _text(body, "node") or view.node,
        "incident": incident,
        **{k: v for k, v in body.items() if k in own and v is not None},
    }
    stored, derived = intake.record(engine, doc)
    now = gridcore_escalation.incident(engine, incident)
    return {"event": doc["id"], "stored": stored, "derived": derived, "incident": plain(now)}


REDEEM_BODY = obj(
    {
        "reward": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "member": {"type": "string", "description": "whose points (default: the token's member)"},
        "node": {"type": "string"},
        "event_id": {"type": "string"},
    },
    ["reward"],
)


@documented("Redeem a reward (积分兑换) with the token's member as the actor", body=REDEEM_BODY, tag="actions")
async def redeem(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    body = await json_body(request)
    intake.fields(body, ("reward", "quantity", "member", "node", "event_id"))
    reward = _text(body, "reward")
    quantity = body.get("quantity", 1)
    if reward is None:
        raise Problem("invalid-request", "reward is missing", "请填写要兑换的礼遇 reward")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise Problem("invalid-request", f"quantity must be a whole number from 1, got {quantity!r}",
                      "数量 quantity 应为不小于 1 的整数")

    def act(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "points")
        actor = who.member or ""
        member = _text(body, "member") or actor
        if not engine.knows_person(member):
            raise Problem("not-found", f"unknown member {member!r}", f"花名册中没有成员 {member!r}")
        event_id = _text(body, "event_id")
        when = intake.stamp(engine, event_id)
        ident = event_id or gridcore_points.redemption_id(member, reward, when)
        already = engine.store.contains(ident)
        entry = gridcore_points.redeem(
            engine, member, reward, quantity, node=_text(body, "node"), actor=actor, event_id=ident, at=when
        )
        # the balance once the redemption is booked (at its own time: a test clock stands still)
        return {"event": ident, "stored": not already, "entry": plain(entry),
                "balance": gridcore_points.balance(engine, member, at=intake.local_now(engine))}

    result = await service.act(act)
    return ok(result, 201 if result["stored"] else 200)


@documented(
    "Rate a period (评星定级) and store the result, as `gridcore assess` does (community staff only)",
    body=obj({"period": {"type": "string"}}, ["period"]),
    tag="actions",
)
async def assess(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    body = await json_body(request)
    intake.fields(body, ("period",))
    period = _text(body, "period")
    if not period:
        raise Problem("invalid-request", "period is missing (2025-Q1, 2025-03 ...)",
                      "请填写考核周期 period（如 2025-Q1、2025-03）")
    period = period_written(period)

    def act(engine: Engine) -> Any:
        require_plugin(engine, "assessment")
        if not is_staff(engine, who.member or ""):
            raise Problem("forbidden", "only community staff may store an assessment", "只有社区工作人员可以保存考核结果")
        return gridcore_assessment.assess(engine, period, save=True)

    return ok(await service.act(act), 201)


@documented(
    "Move the test clock to `now` and record everything that falls due (only with gridcore serve --test-clock)",
    body=obj({"now": {"type": "string", "format": "date-time"}}, ["now"]),
    tag="actions",
)
async def tick(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)
    body = await json_body(request)
    intake.fields(body, ("now",))
    when = _time(_text(body, "now"), "now")
    lang = language_of(request.headers)
    if not service.live.test_clock:
        raise Problem("not-enabled", "tick is for tests: start the service with --test-clock", "tick 仅用于测试")
    if when is None:
        raise Problem("invalid-request", "now is missing: the time to move the clock to, e.g. "
                      "2025-03-01T09:00+08:00", "请填写 now：要把时钟拨到的时间，如 2025-03-01T09:00+08:00")

    def act(engine: Engine) -> dict[str, Any]:
        clock = engine.clock
        assert isinstance(clock, FixedClock)
        if when < clock.now() - DECIDED_WITH:
            raise Problem("invalid-request", f"the clock is at {clock.now().isoformat()} and cannot go back",
                          f"时钟已在 {clock.now().isoformat()}，不能倒退")
        # a tick to the same time as one another worker just made finds the clock DECIDED_WITH
        # past it (what that tick decided on the spot): everything due by then is recorded
        fired = engine.tick(when) if when >= clock.now() else []
        share_test_clock(engine, clock.now())  # every worker's clock moves there too
        # in time order, ties by id (as ``gridcore tick`` lists them); for a request in Chinese each with its
        # kind's Chinese name (``提级``) and what it decided, as ``gridcore --lang zh explain`` says it
        return {"now": clock.now(), "derived": [{"event": e.id, "kind": type(e).kind, "time": e.time,
                                                 **(_derived_zh(engine, e) if lang == "zh" else {})}
                                                for e in sorted(fired, key=event_order)]}

    return ok(await service.act(act), lang=lang)


def _derived_zh(engine: Engine, event: Any) -> dict[str, Any]:
    """A derived event's Chinese for a tick's answer: ``name``, its kind's Chinese (``提级``), and ``summary``,
    the explanation of the decision it records by any plugin that gives one (``系统将事件 ... 提级至社区 ...``)."""
    found: dict[str, Any] = {"name": type(event).title_zh or type(event).kind}
    for plugin in ("escalation", "points", "tasks"):
        try:
            found["summary"] = engine.explain(f"{plugin}:{event.id}", lang="zh").summary
            break
        except GridcoreError:
            continue
    return found


# ---------------------------------------------------------------- reads


@documented("Who the token belongs to", tag="reads")
async def me(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)

    def read(engine: Engine) -> dict[str, Any]:
        member = engine.community.members.get(who.member or "")
        roles = [{"role": a.role, "name": engine.community.roles.get(a.role, a.role), "node": a.node}
                 for a in (member.roles if member else ())]
        return {"member": who.member, "name": member.name if member else who.member, "roles": roles,
                "token": who.token, "staff": is_staff(engine, who.member or "")}

    return ok(await service.read(read))


@documented("The community: name, levels, nodes (with their map location if any, and households and people on record)", tag="reads")
async def community(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)

    lang = language_of(request.headers)

    def read(engine: Engine) -> dict[str, Any]:
        c = engine.community

        def kind_name(kind: str) -> dict[str, str]:
            """A node's kind by its Chinese name too for a request in Chinese (属地网格), the code as it is."""
            return {"kind_name": KIND_NAMES_ZH.get(kind, kind)} if lang == "zh" else {}

        return {
            "name": c.name,
            "timezone": c.timezone,
            "levels": [{"level": lv, "name": c.level_label(lv)} for lv in c.hierarchy.levels],
            "nodes": [
                {"id": n.id, "name": n.name, "level": n.level, "parent": n.parent, "kind": n.kind, **kind_name(n.kind),
                 "location": c.locations[n.id].to_geojson() if n.id in c.locations else None,
                 # households and people on record now (the roster's, as events changed them), subtree included
                 "counts": attrs.asdict(engine.households.counts(n.id))}
                for n in c.hierarchy
            ],
            "departments": [{"id": d.id, "name": d.name} for d in c.departments.values()],
            "ruleset": engine.ruleset.name if engine.ruleset else None,
            # every ruleset put in force, and the subtree each governs (node None: the whole tree)
            "rulesets": [{"effective": entry.effective, "ruleset": entry.ruleset.name, "node": entry.node}
                         for entry in engine.rulesets_in_force()],
            "now": engine.clock.now(),
        }

    return ok(await service.read(read), lang=lang)


#: A node's kind in Chinese (the roster's spelling: ``属地网格`` is ``territorial``).
KIND_NAMES_ZH = {"territorial": "属地网格", "industry": "行业网格", "dedicated": "专属网格"}


@documented("A household (户) on record: where it lives, its named residents, who looks after it, its history "
            "(community staff only: it names people)", tag="reads")
async def household(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    ident = request.path_params["household"]

    def read(engine: Engine) -> dict[str, Any]:
        register = engine.households
        found, history = register.household(ident), register.history(ident)
        # the staff of the household's cell or above (one no longer on record: any staff)
        if not (staff_over(engine, who.member or "", [found.node]) if found is not None
                else is_staff(engine, who.member or "")):
            raise Problem("forbidden", "households and their residents are for the staff of their cell or above",
                          "户的登记信息只有所在网格或上级的工作人员可以查看")
        if found is None and not history:
            raise Problem("not-found", f"household {ident!r} was never on record", f"户 {ident!r} 从未在册")
        return {
            "household": ident,
            "on_record": found is not None,
            "record": attrs.asdict(found) if found is not None else None,
            "residents": [attrs.asdict(r) for r in register.named_in(ident)],
            "looked_after_by": sorted(m for m, hs in register.carers().items() if ident in hs),
            "history": [{"time": c.time, "event": c.event, "text": c.text} for c in history],
        }

    return ok(await service.read(read))


@documented(
    "The month's public points board (积分公示) of a node",
    query=(("node", "default: the top node"), ("month", "YYYY-MM; default: the month of the latest event")),
    tag="reads",
)
async def points_board(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)
    node, month = request.query_params.get("node"), request.query_params.get("month")

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "points")
        where = node or engine.community.hierarchy.roots()[0].id
        label = month or default_month(engine)
        return {"node": where, "month": label, "rows": gridcore_points.board(engine, where, label)}

    return ok(await service.read(read))


@documented(
    "A member's points statement over a period (the member themself, or community staff)",
    query=(("period", "2025-03, 2025-Q1, 2025 ...; default: the month of the latest event"),),
    tag="reads",
)
async def points_statement(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    member = request.path_params["member"]
    period = request.query_params.get("period")
    period = period_written(period) if period else None

    def read(engine: Engine) -> Any:
        require_plugin(engine, "points")
        _known(engine, member)
        may_read_account(engine, who.member or "", member)
        return gridcore_points.statement(engine, member, period or default_month(engine))

    return ok(await service.read(read))


@documented("A member's points balance now (the member themself, or community staff)", tag="reads")
async def points_balance(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    member = request.path_params["member"]

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "points")
        _known(engine, member)
        may_read_account(engine, who.member or "", member)
        # now as actions are recorded: after the latest action even when a test clock stands still
        when = intake.local_now(engine)
        return {"member": member, "balance": gridcore_points.balance(engine, member, at=when), "at": when}

    return ok(await service.read(read))


@documented(
    "The rewards list in force (积分礼遇清单) with the stock left: that of the ruleset governing the node "
    "(a community's own variant has its own list)",
    query=(("node", "a node id or name: the list of the ruleset governing it; default: the caller's home"),),
    tag="reads",
)
async def points_rewards(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    written = request.query_params.get("node")

    def read(engine: Engine) -> Any:
        require_plugin(engine, "points")
        node = (engine.community.hierarchy.find(written).id if written is not None
                else gridcore_points.home_of(engine, who.member) if who.member else None)
        return gridcore_points.rewards(engine, node=node)

    return ok(await service.read(read))


def _known(engine: Engine, member: str) -> None:
    if not engine.knows_person(member) or member == SYSTEM_ACTOR:
        raise Problem("not-found", f"unknown member {member!r}: not on the roster nor a registered resident",
                      f"{member!r} 既不在花名册中，也不是已登记的居民")


@documented(
    "Incidents (open ones by default)",
    query=(("status", "open (default), all, or one status"), ("within", "a node: reported there or below")),
    tag="reads",
)
async def incidents(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)
    status = request.query_params.get("status", "open")
    within = request.query_params.get("within")

    def read(engine: Engine) -> Any:
        require_plugin(engine, "escalation")
        if within is not None:
            engine.community.hierarchy.node(within)
        return gridcore_escalation.incidents(engine, status=None if status == "all" else status, within=within)

    return ok(await service.read(read))


@documented("Open incidents past their time limit, with the limit that ran out", tag="reads")
async def overdue(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)

    def read(engine: Engine) -> Any:
        require_plugin(engine, "escalation")
        return [{"incident": view, "deadline": deadline} for view, deadline in gridcore_escalation.overdue(engine)]

    return ok(await service.read(read))


@documented(
    "Which time limit applies where (gridcore incidents limits): each category at each level of its ladder, "
    "summoned departments and handler roles, each limit with the rule that wins",
    query=(("on", "YYYY-MM-DD: the rules in force that day (at its start); default: now"),
           ("node", ("a node id or name: the limits of the ruleset governing it (a community's own variant); "
                     "default: the whole tree's"))),
    tag="reads",
    description="`ruleset` and `file`: the ruleset governing `node` (null: the whole tree) and its file; "
    "`rows`: `applies_to` (category, department or handler), `name` (the category, null for any "
    "other; the department; the role), `level`, `accept` and `resolve` (null: no limit; else `span`, "
    "`working`, `source` and `rule`), `only_when` (limits applying there only when their condition holds), "
    "`then_role` (who takes over a handler's breached case); `precedence` says how the winner is chosen.",
)
async def incident_limits(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)
    on = request.query_params.get("on")
    written = request.query_params.get("node")

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "escalation")
        node = engine.community.hierarchy.find(written).id if written is not None else None
        when = engine.clock.now()
        if on is not None:
            try:
                day = date.fromisoformat(on)
            except ValueError:
                raise Problem("invalid-request", f"on {on!r} is not a day like 2025-03-01",
                              f"on {on!r} 不是日期，应写成 2025-03-01 的样式") from None
            when = datetime.combine(day, time(0), engine.community.tz)
        ruleset = engine.ruleset_at(when, node)
        return {
            "ruleset": ruleset.name if ruleset else None,
            "file": PurePath(ruleset.entry).name if ruleset else None,
            "node": node,
            "on": when.date(),
            "rows": [_limits_row(row) for row in gridcore_escalation.limits(engine, at=when, node=node)],
            "precedence": gridcore_escalation.PRECEDENCE,
        }

    return ok(await service.read(read))


def _limits_row(row: gridcore_escalation.LimitsRow) -> dict[str, Any]:
    def applied(found: Any) -> dict[str, Any] | None:
        if found is None:
            return None
        return {"span": str(found.span), "working": found.span.working, "source": found.source, "rule": found.rule}

    return {
        "applies_to": row.applies_to, "name": row.name, "level": row.level,
        "accept": applied(row.accept), "resolve": applied(row.resolve),
        "only_when": [{"limit": c.limit, "span": str(c.span), "working": c.span.working, "level": c.level,
                       "when": str(c.condition), "rule": c.rule} for c in row.only_when],
        "then_role": row.then_role,
    }


@documented("One incident", tag="reads")
async def incident(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)
    ident = request.path_params["incident"]

    def read(engine: Engine) -> Any:
        require_plugin(engine, "escalation")
        return gridcore_escalation.incident(engine, ident)

    return ok(await service.read(read))


@documented("An incident's timeline, each automatic step with the rule and explanation behind it", tag="reads")
async def incident_timeline(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)
    ident = request.path_params["incident"]

    lang = language_of(request.headers)

    def read(engine: Engine) -> dict[str, Any]:
        require_plugin(engine, "escalation")
        return {"incident": ident, "entries": timeline_entries(engine, ident, lang)}

    return ok(await service.read(read), lang=lang)


def timeline_entries(engine: Engine, ident: str, lang: str = "en") -> list[dict[str, Any]]:
    """An incident's timeline with each step's explanation (when a plugin can give one), each step's
    name and detail in Chinese too (``what_zh``, ``detail_zh``) and each explanation's summary
    (``summary_zh``); for ``lang="zh"`` each step's ``detail`` and its explanation's ``summary`` in Chinese,
    the explanation's ``labels`` heading its inputs (as ``/explain`` gives them)."""
    view = gridcore_escalation.incident(engine, ident)
    out = []
    chinese = gridcore_escalation.timeline_zh(engine, ident)
    for entry, (what_zh, detail_zh) in zip(gridcore_escalation.timeline(engine, ident), chinese, strict=True):
        why = None
        decision = f"escalation:{entry.event}" if entry.event else None
        if entry.what == "routed":
            decision = f"escalation:route:{view.id}"
        if decision is not None:
            try:
                english, chinese = engine.explain(decision), engine.explain(decision, lang="zh")
                why = {**(explanation_zh(english, chinese) if lang == "zh" else explanation(english)),
                       "summary_zh": chinese.summary}
            except GridcoreError:
                why = None
        said = {"detail": detail_zh} if lang == "zh" else {}
        out.append({**plain(entry), **said, "what_zh": what_zh, "detail_zh": detail_zh, "explanation": why})
    return out


@documented(
    "An assessment with every term of every score (the stored one, else a fresh one that is not stored)",
    query=(("node", ("a node id or name: only the rated nodes of its subtree, `ruleset` naming the ruleset "
                     "governing it and its file; default: every node")),),
    tag="reads",
)
async def assessment(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)
    period = period_written(request.path_params["period"])
    written = request.query_params.get("node")

    def read(engine: Engine) -> Any:
        require_plugin(engine, "assessment")
        node = engine.community.hierarchy.find(written).id if written is not None else None
        stored = gridcore_assessment.stored(engine, period)
        result = stored if stored is not None else gridcore_assessment.stored_or_fresh(engine, period)
        if node is not None:
            result = gridcore_assessment.within(engine, result, node)
        return {"stored": stored is not None, "assessment": result}

    return ok(await service.read(read))


@documented("Explain a decision (a points entry, an escalation, a rating) by its id", tag="reads")
async def explain(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)
    decision = request.path_params["decision"]
    lang = language_of(request.headers)

    def read(engine: Engine) -> dict[str, Any]:
        english = engine.explain(decision)
        return explanation(english) if lang != "zh" else explanation_zh(english, engine.explain(decision, lang="zh"))

    return ok(await service.read(read), lang=lang)


@documented("Every named report plugins contribute", tag="reads")
async def reports(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)

    lang = language_of(request.headers)

    def read(engine: Engine) -> Any:
        return [{"name": r.name, "description": chinese_first_line(r.description) if lang == "zh" else r.description,
                 "params": list(r.params)} for r in sorted(engine.hooks.register_reports(), key=lambda r: r.name)]

    return ok(await service.read(read), lang=lang)


@documented("Build a named report (query parameters are its parameters)", tag="reads")
async def report(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    name = request.path_params["name"]
    params = dict(request.query_params)

    def read(engine: Engine) -> Any:
        personal = any(r.name == name and "member" in r.params for r in engine.hooks.register_reports())
        if personal and "member" in params:
            # a member's statement is theirs and staff's, however it is asked for
            may_read_account(engine, who.member or "", params["member"])
        built = engine.report(name, params)
        reader = who.member or ""
        if "member" in built.columns and not is_staff(engine, reader):
            # a table naming people (subsidies, ratings, flagged claims) is staff's: a resident or
            # volunteer reads only their own rows' table (the public board is /points/board)
            at = built.columns.index("member")
            if any(row[at] != reader for row in built.rows):
                raise Problem("forbidden", f"the report {name} names other people: it is for staff",
                              f"报表 {name} 含有他人信息，只供工作人员查看")
        if lang == "zh" and any(c in built.columns for c in SAID):
            # each row's sentences (what staff read: detail, what ...) as the report says them in Chinese; the
            # other cells as they are
            chinese = engine.report(name, params, lang="zh")
            return table(built, lang, details=chinese)
        return table(built, lang)

    lang = language_of(request.headers)
    return ok(await service.read(read), lang=lang)


@documented(
    "A node's children side by side over a period (汇总), as `gridcore rollup` gives it: the three rates, "
    "overdue cases, stars, points and subsidies of a street's communities or a district's streets "
    "(staff only: its subsidies name people); computed in a forked copy of the worker's state, off the engine's "
    "thread, and kept until something that period reads or the day change (`Cache-Status`); the stars and "
    "subsidies are those of the assessment periods the period falls in or holds, provisional while one is under way",
    query=(("period", "2025-Q1, 2025-03, 2025-W10, 2025-03-05 or 2025 (required)"),
           ("table", ("only this table: summary, months, departments, stars, boards (each child's monthly points "
                      "boards, made only when asked for) or subsidies; default: every one but boards")),
           ("format", "json (default), or csv: one table (the summary unless `table` names another), with a BOM")),
    tag="reads",
)
async def node_rollup(request: Request) -> Response:
    from gridcore_app.rollup import BOARDS, TABLES, rollup

    from .rollups import Forked, collect, fork

    service = service_of(request)
    who = await service.member(request)
    written = request.path_params["node"]
    period = request.query_params.get("period")
    chosen = request.query_params.get("table")
    fmt = request.query_params.get("format", "json")
    if not period:
        raise Problem("invalid-request", "period is missing (2025-Q1, 2025-03, 2025-W10 ...)",
                      "请填写汇总周期 period（如 2025-Q1、2025-03、2025-W10）")
    period = period_written(period)
    if chosen is not None and chosen not in TABLES:
        raise Problem("invalid-request", f"table {chosen!r} is none of {', '.join(TABLES)}",
                      f"没有汇总表 {chosen!r}，可选：{'、'.join(TABLES)}")
    if fmt not in ("json", "csv"):
        raise Problem("invalid-request", f"format {fmt!r} is neither json nor csv", f"格式 {fmt!r} 应为 json 或 csv")

    kept = service.rollups
    node = ""

    def begin(engine: Engine) -> tuple[tuple[Any, ...], str | Forked | None]:
        nonlocal node
        if not is_staff(engine, who.member or ""):
            raise Problem("forbidden", "roll-ups are for staff: their subsidies name people",
                          "汇总只供工作人员查看（其中的补贴列有个人姓名）")
        node = engine.community.hierarchy.find(written).id
        key = kept.key(engine, node, period, fmt, chosen)
        # kept, else computed in a forked copy of this state while the engine goes on (service/rollups.py)
        return key, kept.kept(key) or fork(engine, node, period, fmt, chosen)

    async with kept.gate:  # one roll-up computed at a time; the next finds it kept
        key, found = await service.read(begin)
        # RFC 9211: a roll-up kept is a hit, one computed now a miss
        status = {"Cache-Status": "gridcore; hit" if isinstance(found, str) else "gridcore; fwd=miss"}
        text = found if isinstance(found, str) else None
        if isinstance(found, Forked):
            done = await asyncio.get_running_loop().run_in_executor(None, collect, found)
            if done is not None:  # as the state was at the fork: kept under that state's key
                text, provisional = done
                kept.keep(key, text, provisional)
        if text is None:  # no fork here, or the child failed: computed on the engine's thread, as before
            text = await service.read(lambda engine: rollup(engine, node, period, boards=chosen == BOARDS)
                                            .render(fmt, chosen))

    if fmt == "csv":
        return Response(text, media_type="text/csv; charset=utf-8", headers=status)
    return Response(text, media_type="application/json", headers=status)


@documented("This description (OpenAPI 3.1)", auth=AUTH_NONE, tag="reads")
async def openapi(request: Request) -> Response:
    service = service_of(request)
    return ok(await service.read(lambda engine: request.app.state.openapi(engine)))


def routes() -> list[Route]:
    """The API's routes."""
    return [
        Route(f"{PREFIX}/openapi.json", openapi),
        Route(f"{PREFIX}/me", me),
        Route(f"{PREFIX}/community", community),
        Route(f"{PREFIX}/households/{{household}}", household),
        Route(f"{PREFIX}/events", record_events, methods=["POST"]),
        Route(f"{PREFIX}/tick", tick, methods=["POST"]),
        Route(f"{PREFIX}/incidents", incidents),
        Route(f"{PREFIX}/incidents", report_incident, methods=["POST"]),
        Route(f"{PREFIX}/incidents/overdue", overdue),
        Route(f"{PREFIX}/incidents/limits", incident_limits),
        Route(f"{PREFIX}/incidents/{{incident}}", incident),
        Route(f"{PREFIX}/incidents/{{incident}}/timeline", incident_timeline),
        Route(f"{PREFIX}/incidents/{{incident}}/{{step}}", incident_step, methods=["POST"]),
        Route(f"{PREFIX}/points/board", points_board),
        Route(f"{PREFIX}/points/rewards", points_rewards),
        Route(f"{PREFIX}/points/redemptions", redeem, methods=["POST"]),
        Route(f"{PREFIX}/points/members/{{member}}/statement", points_statement),
        Route(f"{PREFIX}/points/members/{{member}}/balance", points_balance),
        Route(f"{PREFIX}/assessments", assess, methods=["POST"]),
        Route(f"{PREFIX}/assessments/{{period}}", assessment),
        Route(f"{PREFIX}/explain/{{decision:path}}", explain),
        Route(f"{PREFIX}/reports", reports),
        Route(f"{PREFIX}/reports/{{name}}", report),
        Route(f"{PREFIX}/rollups/{{node}}", node_rollup),
    ]

