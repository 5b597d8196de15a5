"""The OpenAPI 3.1 description of the service, built from the routes themselves.

Each endpoint carries its summary, who may call it, its query parameters and
its body with ``@documented``; event bodies are described from the event
classes the engine has registered (their attrs fields), so the description
cannot drift from what the engine accepts.  Plugins' routes appear too when
their endpoints are ``@documented``.

Chinese first: every text is described in Chinese beside its English
(``x-summary-zh``, ``x-description-zh``).  The service's own Chinese is in
``openapi_zh``; a plugin gives its routes' with ``@documented(...,
chinese=DESCRIPTIONS_ZH)``, a mapping from each of its English texts (the
summary, the description, each query parameter's, the body's) to the Chinese,
as ``lazy_command(..., chinese=HELP_ZH)`` does for commands.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs
from starlette.routing import BaseRoute, Route

from gridcore import Event
from gridcore.classes import frozen
from gridcore.rules.schema import event_field_zh

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
    chinese: tuple[tuple[str, str], ...] = ()


def documented(
    summary: str,
    *,
    auth: str = AUTH_TOKEN,
    query: Iterable[tuple[str, str]] = (),
    body: dict[str, Any] | None = None,
    tag: str = "api",
    description: str = "",
    chinese: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """Attach an OpenAPI operation to a route endpoint.

    ``chinese`` maps the operation's English texts (``summary``, ``description``, each ``query`` text,
    each ``description`` in ``body``) to their Chinese, shown beside them as ``x-summary-zh`` and
    ``x-description-zh``; a text it leaves out falls back on the service's own (``openapi_zh``), else
    stays English only (tests/test_help_chinese.py fails on that for the built-in routes)."""

    def mark(func: F) -> F:
        func.__openapi__ = Operation(summary, auth, tuple(query), body, tag, description,  # type: ignore[attr-defined]
                                     tuple((chinese or {}).items()))
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
    """JSON Schema of an event class's document (``kind`` plus its attrs fields), in English and Chinese:
    the kind as ``title`` with the class's ``title_zh`` beside it (``x-title-zh``), its docstring's first
    paragraph as ``description`` with its ``doc_zh``, and each field's name as its ``title`` with the
    Chinese ``gridcore.rules.schema.event_field_zh`` finds (the class's ``fields_zh``, its bases', the
    rules language's names). All from the class itself: what a plugin declares is what is shown."""
    hints = typing.get_type_hints(cls)
    skip = set(leave_out)
    properties: dict[str, Any] = {"kind": _titled(cls, "kind", {"const": cls.kind})}
    required = ["kind"]
    for field in attrs.fields(cls):
        if field.name in skip:
            continue
        properties[field.name] = _titled(cls, field.name, _type_schema(hints.get(field.name, str)))
        if field.default is attrs.NOTHING:
            required.append(field.name)
    schema: dict[str, Any] = {"title": cls.kind, **obj(properties, required)}
    # (a kind's own: a subclass that says nothing is not described by its parent's Chinese)
    title_zh, doc_zh = vars(cls).get("title_zh", ""), vars(cls).get("doc_zh", "")
    if title_zh:
        schema["x-title-zh"] = title_zh
    schema["description"] = (cls.__doc__ or "").strip().split("\n\n")[0]
    if doc_zh:
        schema["x-description-zh"] = doc_zh
    return schema


def _titled(cls: type[Event], name: str, schema: dict[str, Any]) -> dict[str, Any]:
    chinese = event_field_zh(cls, name)
    return {"title": name, **({"x-title-zh": chinese} if chinese else {}), **schema}


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
            if operation.chinese:
                entry = _with_chinese(entry, dict(operation.chinese))
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


def _with_chinese(document: Any, known: Mapping[str, str] | None = None) -> Any:
    """``document`` with the Chinese beside each English text ``known`` (default: ``openapi_zh``'s) gives:
    ``x-summary-zh`` beside an operation's ``summary``, ``x-description-zh`` beside a ``description``
    (Chinese first: staff read the description too); a text already given its Chinese keeps it."""
    if known is None:
        from .openapi_zh import DESCRIPTIONS_ZH

        known = DESCRIPTIONS_ZH
    if isinstance(document, list):
        return [_with_chinese(item, known) for item in document]
    if not isinstance(document, dict):
        return document
    out = {key: _with_chinese(value, known) for key, value in document.items()}
    for key in ("summary", "description"):
        text = document.get(key)
        if isinstance(text, str) and text in known and f"x-{key}-zh" not in document:
            out[f"x-{key}-zh"] = known[text]
    return out
