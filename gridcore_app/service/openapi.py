"""The OpenAPI 3.1 description of the service, built from the routes themselves.

Each endpoint carries its summary, who may call it, its query parameters and
its body with ``@documented``; event bodies are described from the event
classes the engine has registered (their attrs fields), so the description
cannot drift from what the engine accepts.  Plugins' routes appear too when
their endpoints are ``@documented``.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import attrs
from attrs import frozen
from starlette.routing import BaseRoute, Route

from gridcore import Event

F = TypeVar("F", bound=Callable[..., Any])

#: who may call an endpoint
AUTH_TOKEN = "token"
AUTH_ANONYMOUS = "token or anonymous"
AUTH_NONE = "none"


@frozen
class Operation:
    """What ``@documented`` records about an endpoint."""

    summary: str
    auth: str = AUTH_TOKEN
    query: tuple[tuple[str, str], ...] = ()
    body: dict[str, Any] | None = None
    tag: str = "api"
    description: str = ""


def documented(
    summary: str,
    *,
    auth: str = AUTH_TOKEN,
    query: Iterable[tuple[str, str]] = (),
    body: dict[str, Any] | None = None,
    tag: str = "api",
    description: str = "",
) -> Callable[[F], F]:
    """Attach an OpenAPI operation to a route endpoint."""

    def mark(func: F) -> F:
        func.__openapi__ = Operation(summary, auth, tuple(query), body, tag, description)  # type: ignore[attr-defined]
        return func

    return mark


def obj(properties: dict[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON Schema object (no other properties)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    needed = list(required)
    if needed:
        schema["required"] = needed
    return schema


def event_schema(cls: type[Event], *, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """JSON Schema of an event class's document (``kind`` plus its attrs fields)."""
    hints = typing.get_type_hints(cls)
    skip = set(leave_out)
    properties: dict[str, Any] = {"kind": {"const": cls.kind}}
    required = ["kind"]
    for field in attrs.fields(cls):
        if field.name in skip:
            continue
        properties[field.name] = _type_schema(hints.get(field.name, str))
        if field.default is attrs.NOTHING:
            required.append(field.name)
    schema = obj(properties, required)
    schema["description"] = (cls.__doc__ or "").strip().split("\n\n")[0]
    return schema


def _type_schema(kind: Any) -> dict[str, Any]:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [_type_schema(a) for a in typing.get_args(kind)]
        return {"anyOf": options}
    if kind is type(None):
        return {"type": "null"}
    if kind is bool:
        return {"type": "boolean"}
    if kind is int:
        return {"type": "integer"}
    if kind is float:
        return {"type": "number"}
    if kind is datetime:
        return {"type": "string", "format": "date-time"}
    return {"type": "string"}


def build(routes: Iterable[BaseRoute], event_types: Iterable[type[Event]], *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI document of every ``@documented`` route."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        operation = getattr(route.endpoint, "__openapi__", None)
        if not isinstance(operation, Operation):
            continue
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)(?::\w+)?}", route.path)
        ]
        params += [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
            for name, text in operation.query
        ]
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            entry: dict[str, Any] = {
                "summary": operation.summary,
                "tags": [operation.tag],
                "parameters": params,
                "responses": {
                    "200": {"description": "OK"},
                    "default": {
                        "description": "A problem (RFC 9457) with the reason",
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    },
                },
            }
            if operation.description:
                entry["description"] = operation.description
            if operation.auth == AUTH_TOKEN:
                entry["security"] = [{"token": []}]
            elif operation.auth == AUTH_ANONYMOUS:
                entry["security"] = [{"token": []}, {}]
            if operation.body is not None:
                entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": operation.body}}}
            paths.setdefault(re.sub(r"{(\w+):\w+}", r"{\1}", route.path), {})[method.lower()] = entry
    schemas: dict[str, Any] = {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details; refused events carry `event` and every one of the engine's `reasons`",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "title_zh": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "detail_zh": {"type": "string"},
                "instance": {"type": "string"},
                "event": {"type": "string"},
                "reasons": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["type", "title", "status", "detail"],
        },
    }
    for cls in sorted(event_types, key=lambda c: c.kind):
        schemas[f"event.{cls.kind}"] = event_schema(cls)
    described: dict[str, Any] = _with_chinese({
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A member's API token (gridcore tokens issue MEMBER)",
                }
            },
        },
    })
    return described


def _with_chinese(document: Any) -> Any:
    """``document`` with the Chinese beside each English text ``openapi_zh`` knows: ``x-summary-zh`` beside
    an operation's ``summary``, ``x-description-zh`` beside a ``description`` (Chinese first: staff read
    the description too)."""
    from .openapi_zh import DESCRIPTIONS_ZH

    if isinstance(document, list):
        return [_with_chinese(item) for item in document]
    if not isinstance(document, dict):
        return document
    out = {key: _with_chinese(value) for key, value in document.items()}
    for key in ("summary", "description"):
        text = document.get(key)
        if isinstance(text, str) and text in DESCRIPTIONS_ZH and f"x-{key}-zh" not in document:
            out[f"x-{key}-zh"] = DESCRIPTIONS_ZH[text]
    return out
