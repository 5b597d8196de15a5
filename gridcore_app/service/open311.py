"""Open311 GeoReport v2 (``/open311/v2``), so reporting apps and city platforms can talk to gridcore.

* ``GET services.json``: the incident categories of the ruleset in force
  (``category`` items: code, Chinese name, group), each with a ``severity``
  attribute (1-5), so ``metadata`` is true.  ``jurisdiction_id`` (or
  ``node``, a gridcore extension: a node id or the name it alone bears) gives
  the list of the ruleset governing that node, as a report there is judged
  (a community's own variant may declare categories of its own); without
  either, the whole tree's.
* ``GET services/{code}.json``: that service's definition (``jurisdiction_id``
  or ``node`` as for the list).
* ``POST requests.json``: a report, as a form (the specification) or JSON:
  ``service_code``, where (``lat`` + ``long``, ``address_string`` or
  ``address_id``), ``description``, ``media_url``, ``attribute[severity]``;
  routed to its leaf cell and recorded as an ``incident_reported`` through the
  engine.  With ``api_key`` (a member's token) it is the member's report;
  without one it is an anonymous resident's, recorded as the service's intake
  member and answered with a ``report_key`` (a gridcore extension) that lets
  them rate it later.
* ``GET requests.json`` and ``GET requests/{id}.json``: status ``open`` or
  ``closed``, ``status_notes``, ``agency_responsible`` (the line departments
  it was routed to, else the cell that holds it now and its level),
  requested, updated and expected (next deadline) times, address, lat/long.

Every path also answers in XML with ``.xml``.  Errors are the specification's
list of ``{code, description}``.  Not supported: ``GET tokens/{token}``
(requests get their id at once), ``jurisdiction_id`` on a report (the place
reported decides which ruleset judges it), contact fields (``email``, ``phone``, names, ``device_id``, ``account_id``:
accepted but not stored, to keep residents' personal data out of the log),
and services of type other than ``realtime``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import gridcore_escalation
from gridcore import Engine
from gridcore.errors import GridcoreError, HierarchyError, PluginError, chinese_first
from gridcore_escalation import Category, IncidentView

from . import auth, intake
from .context import service_of
from .openapi import AUTH_ANONYMOUS, AUTH_NONE, documented
from .problems import Problem, language_of

PREFIX = "/open311/v2"
REQUESTS = "service.open311"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
SEVERITY_NAMES = {1: "轻微 minor", 2: "一般 moderate", 3: "较重 serious", 4: "严重 grave", 5: "重大 critical"}
CONTACT_FIELDS = ("email", "device_id", "account_id", "first_name", "last_name", "phone")
POST_FIELDS = (
    "api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id", "node",
    "description", "media_url", "attribute[severity]", *CONTACT_FIELDS,
)
DEFAULT_WINDOW = timedelta(days=90)
MOST_RESULTS = 1000


# ---------------------------------------------------------------- answers


def answer(request: Request, doc: Any, status: int = 200, *, root: str = "", item: str = "") -> Response:
    """``doc`` as JSON, or as XML when the path ends in ``.xml``."""
    if request.path_params.get("format") == "xml":
        return Response(_xml(root, item, doc), status_code=status, media_type="text/xml; charset=utf-8")
    return Response(json.dumps(doc, ensure_ascii=False), status_code=status, media_type="application/json")


def _xml(root: str, item: str, doc: Any) -> bytes:
    top = ET.Element(root)
    rows = doc if isinstance(doc, list) else [doc]
    for row in rows:
        _fill(ET.SubElement(top, item) if item else top, row)
    body: bytes = ET.tostring(top, encoding="unicode").encode("utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>' + body


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if isinstance(sub, list):
                holder = ET.SubElement(element, key)
                for each in sub:
                    _fill(ET.SubElement(holder, key.rstrip("s") or key), each)
            else:
                _fill(ET.SubElement(element, key), sub)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def check_format(request: Request) -> None:
    """Refuse an extension other than ``.json`` or ``.xml`` before anything is done."""
    given = request.path_params.get("format")
    if given not in (None, "json", "xml"):
        raise Open311Error(404, f"format {given!r} is not offered: use .json or .xml (只提供 .json 或 .xml 格式)")


class Open311Error(Exception):
    """An error in the specification's format: a list of ``{code, description}``."""

    def __init__(self, status: int, description: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = dict(headers or {})


def error_response(request: Request, status: int, description: str,
                   headers: Mapping[str, str] | None = None) -> Response:
    """The specification's error list; for a request whose ``Accept-Language`` prefers Chinese each description
    Chinese first (``gridcore.errors.chinese_first``: the English after it where that names what the Chinese
    does not), as a resident's phone app in Chinese shows it."""
    if language_of(request.headers) == "zh":
        description = chinese_first(description)
    response = answer(request, [{"code": status, "description": description}], status, root="errors", item="error")
    response.headers.update(headers or {})
    return response


def from_problem(problem: Problem) -> Open311Error:
    """A problem document's reason in the specification's format (every engine reason kept)."""
    reasons = problem.extra.get("reasons")
    text = problem.detail if not reasons else "; ".join(str(r) for r in reasons)
    nearest = problem.extra.get("nearest")
    if problem.slug == "outside-cells" and nearest:
        text = problem.detail
    # (each engine reason already ends with its Chinese, and so does a roster's message passed on whole, whose
    # ``detail_zh`` is that message Chinese first: ``passed_on``)
    if (problem.detail_zh and not reasons and problem.detail_zh not in text
            and problem.detail_zh != chinese_first(text)):
        text = f"{text} ({problem.detail_zh})"
    return Open311Error(problem.status, text, problem.headers)


# ---------------------------------------------------------------- services


def _service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.name} ({category.code})",
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(dict.fromkeys(k for k in (category.code, category.name, category.group) if k)),
        "group": category.group,
    }


def _definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": "severity",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "1 (minor) to 5 (grave); default 1",
                "order": 1,
                "description": "严重程度 Severity",
                "values": [{"key": str(k), "name": v} for k, v in SEVERITY_NAMES.items()],
            }
        ],
    }


_JURISDICTION = (("jurisdiction_id", ("a node id or the name it alone bears: the services of the ruleset "
                                     "governing it (a community's own variant); default: the whole tree's")),
                 ("node", "the same as jurisdiction_id (a gridcore extension)"))


def jurisdiction(request: Request, engine: Engine) -> str | None:
    """The node ``jurisdiction_id`` (or ``node``) names, None if neither is given; Open311 errors
    for an unknown node (404), a name several nodes bear or two parameters that disagree (400)."""
    given = {name: request.query_params[name] for name in ("jurisdiction_id", "node") if name in request.query_params}
    if not given:
        return None
    found = set()
    for name, written in given.items():
        try:
            found.add(engine.community.hierarchy.find(written.strip()).id)
        except HierarchyError as exc:
            raise Open311Error(404 if str(exc).startswith("unknown") else 400, f"{name}: {exc}") from None
    if len(found) > 1:
        raise Open311Error(400, f"jurisdiction_id and node name different nodes ({', '.join(sorted(found))}); "
                                "give one (辖区与节点不一致)")
    return found.pop()


@documented("Open311: the incident categories of the ruleset in force (at jurisdiction_id or node: the ruleset "
            "governing it)", auth=AUTH_NONE, tag="open311", query=_JURISDICTION)
async def services(request: Request) -> Response:
    check_format(request)
    service = service_of(request)

    def read(engine: Engine) -> list[dict[str, Any]]:
        node = jurisdiction(request, engine)
        return [_service(c) for c in gridcore_escalation.categories(engine, node=node)]

    try:
        found = await service.read(read)
    except Problem as problem:
        raise from_problem(problem) from None
    return answer(request, found, root="services", item="service")


@documented("Open311: one service's definition (its attributes)", auth=AUTH_NONE, tag="open311",
            query=_JURISDICTION)
async def service_definition(request: Request) -> Response:
    check_format(request)
    service = service_of(request)
    code = request.path_params["code"]

    def read(engine: Engine) -> dict[str, Any]:
        node = jurisdiction(request, engine)
        for category in gridcore_escalation.categories(engine, node=node):
            if code in (category.code, category.name):
                return _definition(category)
        where = f" at {node}" if node is not None else ""
        raise Open311Error(404, f"no service {code!r}{where}; GET services lists them (未知的事件类别)")

    return answer(request, await _open311(service, read), root="service_definition")


# ---------------------------------------------------------------- requests


@documented(
    "Open311: report a problem (form or JSON; api_key optional: anonymous reports get a report_key)",
    auth=AUTH_ANONYMOUS,
    body={"type": "object", "description": "service_code, lat+long or address_string or address_id or node (a "
          "gridcore extension: the cell, by id or the name it alone bears), "
          "description, media_url, attribute[severity], api_key (contact fields are not stored)"},
    tag="open311",
)
async def post_request(request: Request) -> Response:
    check_format(request)
    service = service_of(request)
    form = await _form(request)
    try:
        who = await service.caller(request, form)
    except Problem as problem:
        raise from_problem(problem) from None
    unknown = sorted(k for k in form if k not in POST_FIELDS and not k.startswith("attribute["))
    if unknown:
        raise Open311Error(400, f"unknown field(s) {', '.join(unknown)} (未知字段)")
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required (请填写事件类别 service_code)")
    lat, lon = _spot(form)
    severity = _severity(form.get("attribute[severity]"))
    if who.member is None and service.settings.intake is None:
        raise Open311Error(403, "anonymous reports are not taken here: send an api_key (本服务不受理匿名上报，请使用令牌)")
    actor = who.member or service.settings.intake or ""

    def act(engine: Engine) -> list[dict[str, Any]]:
        written = form.get("node", "").strip()
        try:
            # (a gridcore extension: the cell, where a roster keeps no places and no map, as a district's)
            cell = engine.community.hierarchy.find(written).id if written else None
        except HierarchyError as exc:
            raise Open311Error(404 if str(exc).startswith("unknown") else 400, f"node（节点）: {exc}") from None
        node, place = intake.locate(
            engine, node=cell, place=form.get("address_id") or None, address=form.get("address_string") or None,
            lat=lat, lon=lon,
        )
        category, _ = intake.category_code(engine, code, strict=True, node=node)
        ident, _ = intake.report(
            engine, actor=actor, category=category, node=node, place=place,
            description=form.get("description", ""), severity=severity, channel="open311",
        )
        extra = {"lat": lat, "long": lon, "address_string": form.get("address_string") or None,
                 "media_url": form.get("media_url") or None}
        engine.store.put(REQUESTS, ident, {k: v for k, v in extra.items() if v is not None})
        row: dict[str, Any] = {"service_request_id": ident, "service_notice": _notice(engine, ident),
                               "account_id": None}
        if who.anonymous:
            row["report_key"] = auth.new_report_key(engine.store, ident)
        return [row]

    return answer(request, await _open311(service, act), 201, root="service_requests", item="request")


@documented(
    "Open311: requests, newest window first",
    auth=AUTH_NONE,
    query=(
        ("service_request_id", "comma-separated ids"),
        ("service_code", "comma-separated codes"),
        ("start_date", "ISO 8601; default: 90 days before end_date"),
        ("end_date", "ISO 8601; default: the latest event's time"),
        ("status", "open, closed or both (comma-separated)"),
    ),
    tag="open311",
)
async def get_requests(request: Request) -> Response:
    check_format(request)
    service = service_of(request)
    params = request.query_params
    ids = [i for i in params.get("service_request_id", "").split(",") if i.strip()]
    codes = {c for c in params.get("service_code", "").split(",") if c.strip()}
    statuses = {s for s in params.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status is open, closed or both (status 应为 open、closed 或两者)")
    start, end = _date(params.get("start_date"), "start_date"), _date(params.get("end_date"), "end_date")

    def read(engine: Engine) -> list[dict[str, Any]]:
        if ids:
            return [_request(engine, gridcore_escalation.incident(engine, i), i) for i in ids]
        # the window ends at the latest event: a store of last quarter shows last quarter
        until = end or engine.latest_event_time or engine.clock.now()
        since = start or until - DEFAULT_WINDOW
        out = []
        # (only the window's closed incidents are read from the store)
        for view in reversed(gridcore_escalation.reported_in(engine, since, until + timedelta(microseconds=1))):
            if not since <= view.reported_at <= until:
                continue
            if codes and view.category not in codes:
                continue
            if statuses and _status(view) not in statuses:
                continue
            out.append(_request(engine, view))
            if len(out) >= MOST_RESULTS:
                break
        return out

    return answer(request, await _open311(service, read), root="service_requests", item="request")


@documented("Open311: one request", auth=AUTH_NONE, tag="open311")
async def get_request(request: Request) -> Response:
    check_format(request)
    service = service_of(request)
    ident = request.path_params["id"]
    found = await _open311(
        service, lambda engine: [_request(engine, gridcore_escalation.incident(engine, ident), ident)]
    )
    return answer(request, found, root="service_requests", item="request")


@documented("Open311: where the endpoint is and what it speaks", auth=AUTH_NONE, tag="open311")
async def discovery(request: Request) -> Response:
    check_format(request)
    base = str(request.base_url).rstrip("/") + PREFIX
    doc = {
        "changeset": "2025-01-01T00:00:00Z",
        "contact": "the community office",
        "key_service": "gridcore tokens issue MEMBER (an API token is the api_key)",
        "endpoints": [
            {"specification": SPECIFICATION, "url": base, "changeset": "2025-01-01T00:00:00Z",
             "type": "production", "formats": ["application/json", "text/xml"]}
        ],
    }
    return answer(request, doc, root="discovery")


def _status(view: IncidentView) -> str:
    return "open" if view.is_open else "closed"


STATUS_ZH = {"reported": "待受理", "accepted": "已受理", "handling": "办理中", "resolved": "已办结",
             "verified": "已核查", "closed": "已结案"}


def _request(engine: Engine, view: IncidentView, asked: str | None = None) -> dict[str, Any]:
    """One request as the specification shows it; ``asked`` is a repeat report's own id."""
    community = engine.community
    ident = asked or view.id
    extra = engine.store.get(REQUESTS, ident) or {}
    names = {c.code: c.name for c in gridcore_escalation.categories(engine, view.reported_at, view.node)}
    level = community.level_label(view.current_level) if view.current_level else ""
    holder = community.hierarchy.node(view.current_node).name if view.current_node in community.hierarchy else ""
    if view.departments:
        agency = "、".join(community.departments[d].name if d in community.departments else d
                           for d in view.departments)
    else:
        agency = f"{holder} ({level})" if level else holder
    timeline = gridcore_escalation.timeline(engine, view.id)
    updated = max((e.time for e in timeline), default=view.reported_at)
    place = community.places.get(view.place) if view.place else None
    notes = f"{STATUS_ZH.get(view.status, view.status)} {view.status}"
    if view.paused:
        notes += " (暂停 paused)"
    if ident != view.id:
        notes += f"; 已并入 joined {view.id}"
    return {
        "service_request_id": ident,
        "status": _status(view),
        "status_notes": notes,
        "service_name": names.get(view.category, view.category),
        "service_code": view.category,
        "description": view.description,
        "agency_responsible": agency,
        "service_notice": "",
        "requested_datetime": view.reported_at.isoformat(),
        "updated_datetime": updated.isoformat(),
        "expected_datetime": view.next_deadline.isoformat() if view.next_deadline and view.is_open else None,
        "address": extra.get("address_string") or (place.name if place else community.hierarchy.path(view.node)),
        "address_id": view.place,
        "zipcode": None,
        "lat": extra.get("lat"),
        "long": extra.get("long"),
        "media_url": extra.get("media_url"),
    }


def _notice(engine: Engine, ident: str) -> str:
    view = gridcore_escalation.incident(engine, ident)
    if view.next_deadline is None:
        return ""
    community = engine.community
    step_zh = {"accept": "受理", "resolve": "办结"}.get(view.next_limit or "", view.next_limit or "")
    where_zh = f"{community.hierarchy.node(view.current_node).name}（{community.level_label(view.current_level)}）"
    # a resident's app shows it as it is: their language beside the English
    return (f"{view.current_level} {view.current_node}: {view.next_limit} by {view.next_deadline.isoformat()} "
            f"({where_zh}{view.next_deadline:%Y-%m-%d %H:%M} 前{step_zh})")


# ---------------------------------------------------------------- parsing


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    kind = request.headers.get("content-type", "application/x-www-form-urlencoded").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            doc = json.loads(raw or b"{}")
        except ValueError:
            raise Open311Error(400, "the body is not valid JSON (请求内容不是有效的 JSON)") from None
        if not isinstance(doc, dict):
            raise Open311Error(400, "the body must be a JSON object (请求内容必须是 JSON 对象)")
        return {str(k): "" if v is None else str(v) for k, v in doc.items()}
    if kind != "application/x-www-form-urlencoded":
        raise Open311Error(415, "send application/x-www-form-urlencoded (the specification) or application/json"
                                 " (请以表单或 JSON 发送)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Open311Error(400, "the form is not UTF-8 (表单不是 UTF-8 编码)") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def _spot(form: Mapping[str, str]) -> tuple[float | None, float | None]:
    lat, lon = form.get("lat", "").strip(), form.get("long", "").strip()
    if not lat and not lon:
        if not (form.get("address_string") or form.get("address_id") or form.get("node", "").strip()):
            raise Open311Error(400, "say where: lat and long, address_string, address_id or node "
                                    "(请说明位置：经纬度、地址、地址编号或节点)")
        return None, None
    try:
        spot = float(lat), float(lon)
    except ValueError:
        raise Open311Error(400, f"lat and long must both be numbers, got {lat!r}, {lon!r} (经纬度应为数字)") from None
    if not all(math.isfinite(v) for v in spot):
        raise Open311Error(400, "lat and long must be finite numbers (经纬度应为有限的数字)")
    return spot


def _severity(text: str | None) -> int:
    if text is None or not text.strip():
        return 1
    if text.strip() not in {str(k) for k in SEVERITY_NAMES}:
        raise Open311Error(400, f"attribute[severity] must be 1 to 5, got {text!r} (严重程度应为 1 到 5)")
    return int(text)


def _date(text: str | None, what: str) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{what} {text!r} is not an ISO 8601 time (不是 ISO 8601 时间)") from None
    if when.tzinfo is None:
        raise Open311Error(400, f"{what} {text!r} has no time zone (缺少时区)")
    return when


async def _open311(service: Any, work: Any) -> Any:
    """Run ``work`` on the engine; problems and engine errors become Open311 errors."""
    try:
        return await service.act(work)
    except Problem as problem:
        raise from_problem(problem) from None
    except PluginError:
        raise  # a plugin's bug: a logged server error (app.py)
    except GridcoreError as exc:  # pragma: no cover - the service translates these already
        raise Open311Error(400, str(exc)) from None


def routes() -> list[Route]:
    """Open311's routes (each with ``.json`` / ``.xml`` and without an extension)."""
    out = []
    # with an extension first: "{code}" alone would swallow "leaking_pipe.json"
    for suffix in (".{format:str}", ""):
        out += [
            Route(f"{PREFIX}/discovery{suffix}", discovery),
            Route(f"{PREFIX}/services{suffix}", services),
            Route(f"{PREFIX}/services/{{code}}{suffix}", service_definition),
            Route(f"{PREFIX}/requests{suffix}", get_requests),
            Route(f"{PREFIX}/requests{suffix}", post_request, methods=["POST"]),
            Route(f"{PREFIX}/requests/{{id}}{suffix}", get_request),
        ]
    return out
