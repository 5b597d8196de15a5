"""``gridcore serve``: the engine kept open behind Open311, a JSON API and a dashboard.

The application sits beside the library (it imports the core and the
plugins' public APIs; nothing imports it back):

* ``app``: the ASGI application (Starlette) and its lifespan;
* ``live``: the engine kept open, one per worker process, on its own thread;
* ``api``: ``/api/v1``, every action and read, described by OpenAPI;
* ``open311``: Open311 GeoReport v2 intake and status;
* ``dashboard``: server-rendered pages (Jinja2), Chinese first;
* ``auth``, ``guards``: tokens, size and rate limits, a secret-free access log;
* ``intake``: which cell and category a report belongs to;
* ``problems``: RFC 9457 problem documents carrying the engine's reasons.

For plugin authors adding routes (``gridcore_register_routes``):
``service_of(request)`` gives the running ``Service`` (``await
service.read(fn)``, ``await service.member(request)``); ``documented``
lists a handler in the OpenAPI description; raise ``Problem`` to refuse.
See docs/service.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .context import Service, Settings, service_of
    from .openapi import documented
    from .problems import Problem

__all__ = ["Problem", "Service", "Settings", "create_app", "documented", "service_of"]

#: Where each public name lives; imported on first use (PEP 562), so that
#: ``gridcore`` commands other than ``serve`` never load the web stack.
_HOMES = {"create_app": "app", "Service": "context", "Settings": "context", "service_of": "context",
          "documented": "openapi", "Problem": "problems"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
