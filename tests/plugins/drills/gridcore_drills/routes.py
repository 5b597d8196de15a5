"""``/drills/held`` in ``gridcore serve``: the drills held in a period, and a drill recorded over the network.

Added through ``gridcore_register_routes`` (docs/plugins.md), with only the
names the guide lists for route authors: ``service_of`` reaches the engine the
service keeps open, ``documented`` lists a route in the OpenAPI description
(with its Chinese: ``chinese=DESCRIPTIONS_ZH``), and ``Problem`` refuses.  A drill is recorded as the token's member, so the
engine (and this plugin's own ``gridcore_validate_event``) judges it exactly
as a drill from ``gridcore ingest``; a refused one is a problem document with
the reasons, and nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gridcore import Engine
from gridcore_app.service import Problem, documented, service_of

from .reports import held_table

#: what a recorded drill may say (the rest is filled in: id, time, actor)
FIELDS = ("node", "drill", "participants", "note", "id")

#: The Chinese of the routes' descriptions, by their English (shown beside it as ``x-summary-zh`` and
#: ``x-description-zh`` in ``/api/v1/openapi.json``).
DESCRIPTIONS_ZH = {
    "Drills held in a period (消防演练), each with whether it counts": "某一时段举行的消防演练，及每次是否计入",
    "the period: 2025-Q1, 2025-03, 2025 ...": "时段：2025-Q1、2025-03、2025……",
    "Record a drill held (node, drill, participants, note) as the token's member":
        "以令牌所属成员的身份记录一次演练（节点、演练、参加人数、说明）",
    "an idempotency key: a retry with the same id changes nothing": "幂等键：以同一编号重试不会改变任何内容",
}


@documented("Drills held in a period (消防演练), each with whether it counts", tag="drills",
            query=(("period", "the period: 2025-Q1, 2025-03, 2025 ..."),), chinese=DESCRIPTIONS_ZH)
async def drills_held(request: Request) -> Response:
    service = service_of(request)
    await service.member(request)  # a token is needed
    period = request.query_params.get("period", "").strip()
    if not period:
        raise Problem("invalid-request", "say which period: ?period=2025-Q1", "请指定期间：?period=2025-Q1")
    table = await service.read(lambda engine: held_table(engine, period))
    rows = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    return JSONResponse({"period": period, "title": table.title, "drills": rows})


@documented(
    "Record a drill held (node, drill, participants, note) as the token's member",
    body={"type": "object", "required": ["node", "drill"], "properties": {
        "node": {"type": "string"}, "drill": {"type": "string"},
        "participants": {"type": "integer", "minimum": 0}, "note": {"type": "string"},
        "id": {"type": "string", "description": "an idempotency key: a retry with the same id changes nothing"},
    }},
    tag="drills",
    chinese=DESCRIPTIONS_ZH,
)
async def record_drill(request: Request) -> Response:
    service = service_of(request)
    who = await service.member(request)
    body = _object(await request.body())
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise Problem("invalid-request", f"unknown field(s) {', '.join(unknown)} (expected some of "
                      f"{', '.join(FIELDS)})", f"未知字段 {', '.join(unknown)}")

    def record(engine: Engine) -> dict[str, Any]:
        when = engine.clock.now().astimezone(engine.community.tz)
        doc = {"kind": "drill_held", "time": when.isoformat(), "actor": who.member, **body}
        doc.setdefault("id", f"drill:{body.get('node')}:{body.get('drill')}:{when.isoformat()}")
        stored = engine.record(doc)
        return {"event": doc["id"], "stored": stored}

    answer = await service.act(record)
    return JSONResponse(answer, status_code=201 if answer["stored"] else 200)


def _object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw or b"null")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise Problem("invalid-request", "send a JSON object: {\"node\": ..., \"drill\": ...}",
                      "请发送 JSON 对象：{\"node\": ..., \"drill\": ...}")
    return value


ROUTES = (
    Route("/drills/held", drills_held, methods=["GET"]),
    Route("/drills/held", record_drill, methods=["POST"]),
)
