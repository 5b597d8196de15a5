"""The ASGI application: routes, guards, error pages, and the engine's lifetime.

``create_app(settings)`` builds a Starlette application whose lifespan opens
one engine for the process (``LiveEngine``) and closes it on shutdown; while
it serves, the state it loaded is left out of Python's garbage collections
and full collections are rare (``gridcore.garbage.serving``).
``gridcore serve`` hands uvicorn the factory ``app_from_environment``, so each
worker process builds its own application and opens its own engine from the
same settings.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import pluggy
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import gridcore
from gridcore.errors import GridcoreError, PluginError
from gridcore.garbage import serving
from gridcore.plugin_host import Hooks, get_plugin_manager, plugin_selection

from . import api, dashboard, open311, openapi
from .context import Service, Settings
from .guards import Guards, RateLimiter
from .live import LiveEngine, load_every_state
from .problems import MEANINGS_ZH, MEDIA_TYPE, TYPES, Problem, language_of

SETTINGS_VARIABLE = "GRIDCORE_SERVICE_SETTINGS"
#: what uvicorn's worker processes import (``factory=True``): each builds its app from the environment
FACTORY = "gridcore_app.service.app:app_from_environment"
LOG = logging.getLogger("gridcore.service")


async def problem_page(request: Request) -> Response:
    """What a problem ``type`` means (the URI every problem document names)."""
    slug = request.path_params["slug"]
    if slug not in TYPES:
        raise Problem("not-found", f"no problem type {slug!r}", f"没有 {slug!r} 这类错误")
    status, title, title_zh, meaning = TYPES[slug]
    return JSONResponse({"type": f"/problems/{slug}", "status": status, "title": title, "title_zh": title_zh,
                         "description": meaning, "description_zh": MEANINGS_ZH[slug]})


async def home(request: Request) -> Response:
    """The dashboard is the front page."""
    return RedirectResponse("/dashboard/", status_code=307)


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    if request.url.path.startswith("/dashboard/") and "service" in request.app.state._state:
        return await dashboard.error_page(request, exc)
    return exc.response(request.url.path, language_of(request.headers))


async def _http_error(request: Request, exc: Exception) -> Response:
    """No route for the path, or not for the method: a problem document under /api/, the specification's
    error list under /open311/ (docs/service.md: every error of the JSON API is a problem document)."""
    assert isinstance(exc, HTTPException)
    path, method = request.url.path, request.method
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        allowed = headers.get("Allow", headers.get("allow", ""))
        en = f"{method} is not taken by {path}" + (f"; it takes {allowed}" if allowed else "")
        zh = f"{path} 不支持 {method} 请求" + (f"，可用：{allowed}" if allowed else "")
        slug = "method-not-allowed"
    elif exc.status_code == 404:
        en, zh, slug = (f"no route {path}; GET {api.PREFIX}/openapi.json lists them",
                        f"没有 {path} 这个接口，接口列表见 GET {api.PREFIX}/openapi.json", "not-found")
    else:
        return PlainTextResponse(_with_chinese(exc), status_code=exc.status_code, headers=headers)
    if path.startswith(open311.PREFIX):
        return open311.error_response(request, exc.status_code, f"{en} ({zh})")
    if path.startswith((api.PREFIX, "/problems/", "/dashboard/")):
        return await _problem(request, Problem(slug, en, zh, headers=headers))  # (the dashboard's page)
    return PlainTextResponse(_with_chinese(exc), status_code=exc.status_code, headers=headers)


def _with_chinese(exc: HTTPException) -> str:
    """An HTTP error outside the API's paths as plain text: Starlette's English (``Not Found``), and its Chinese."""
    zh = {404: "未找到", 405: "不支持该请求方法", 400: "请求不正确", 413: "请求过大", 415: "不支持的格式"}
    return f"{exc.detail} ({zh.get(exc.status_code, '请求出错')})"


async def _open311_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, open311.Open311Error)
    return open311.error_response(request, exc.status, exc.description, exc.headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    LOG.exception("%s %s failed", request.method, request.url.path)
    # a plugin that failed in a hook is named (PluginError.plugin), never what it said: that is in the log
    culprit = exc.plugin if isinstance(exc, PluginError) else None
    en, zh = ((f"the plugin {culprit!r} failed inside the service; it was logged",
               f"插件 {culprit!r} 在服务内出错，已记录日志") if culprit
              else ("something failed inside the service; it was logged", "服务内部出错，已记录日志"))
    if request.url.path.startswith(open311.PREFIX):
        return open311.error_response(request, 500, f"internal error: {en} ({zh})")
    return Problem("server-error", en, zh).response(request.url.path, language_of(request.headers))


class AnswerUnexpected:
    """ASGI middleware: an exception no handler took is answered here by ``_unexpected`` (logged once, a 500 naming
    the plugin at fault), and the connection kept. Starlette's own last resort (``ServerErrorMiddleware``) would send
    the same answer, then raise the exception again to the server, which logs it a second time and drops the
    connection: a client's next request on a kept-alive connection failed with a reset (seen in the tests).
    Inside ``Guards``, so the access log records the 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:  # (part of an answer is sent: nothing else can be; the server ends the connection)
                raise
            response = await _unexpected(Request(scope), exc)
            await response(scope, receive, send)


def plugin_routes(hooks: Hooks, builtin: list[BaseRoute]) -> list[BaseRoute]:
    """Routes plugins add; one that takes a path and method the service answers is a ``PluginError``."""
    taken = {(r.path, m) for r in builtin if isinstance(r, Route) for m in (r.methods or ())}
    added = hooks.register_routes()
    for route in added:
        if not isinstance(route, BaseRoute):
            raise PluginError(f"gridcore_register_routes must return Starlette routes, got {route!r} "
                              "(插件的 gridcore_register_routes 须返回 Starlette 路由)")
        if isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if (route.path, method) in taken:
                    raise PluginError(f"a plugin route {method} {route.path} clashes with one the service answers "
                                      "(插件的接口与服务自带的接口重复)")
                taken.add((route.path, method))
    return added


def create_app(
    settings: Settings, *, live: LiveEngine | None = None, plugins: pluggy.PluginManager | None = None
) -> Starlette:
    """The service application (its engine is opened when the app starts, unless ``live`` is given).

    ``plugins`` is the process's plugin manager (default: the installed
    plugins less ``settings.disabled_plugins``); its plugins' routes are added.
    """
    pm = plugins if plugins is not None else get_plugin_manager(
        settings.disabled_plugins, only=plugin_selection(os.environ)
    )
    hooks = Hooks(pm)
    builtin: list[BaseRoute] = [
        Route("/", home),
        Route("/problems/{slug}", problem_page),
        *api.routes(),
        *open311.routes(),
        *dashboard.routes(),
        Mount("/static", app=StaticFiles(directory=dashboard.STATIC), name="static"),
    ]
    routes = builtin + plugin_routes(hooks, builtin)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = live or LiveEngine.open(settings.store, now=settings.test_clock, plugins=pm)
        app.state.service = Service(settings, opened)
        try:
            # every plugin's state loaded now (not by the first request), then left out of garbage
            # collections while the service runs, and full collections rare (gridcore.garbage.serving;
            # docs/service.md)
            await opened.run(load_every_state)
            with serving():
                yield
        finally:
            if live is None:
                opened.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                Guards,
                max_body=settings.max_body,
                limiter=RateLimiter(settings.rate, settings.burst),
            ),
            Middleware(AnswerUnexpected),
        ],
        exception_handlers={
            **dashboard.EXCEPTION_HANDLERS,
            Problem: _problem,
            HTTPException: _http_error,
            open311.Open311Error: _open311_error,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )

    def describe(engine: Any) -> dict[str, Any]:
        return openapi.build(app.routes, engine.codec.kinds.values(), title="gridcore service",
                             version=gridcore.__version__)

    app.state.openapi = describe
    return app


def settings_to_environment(settings: Settings) -> str:
    """``settings`` as the JSON text worker processes read from ``GRIDCORE_SERVICE_SETTINGS``."""
    doc = {
        "store": settings.store,
        "intake": settings.intake,
        "max_body": settings.max_body,
        "rate": settings.rate,
        "burst": settings.burst,
        "public_dashboard": settings.public_dashboard,
        "test_clock": settings.test_clock.isoformat() if settings.test_clock else None,
        "disabled_plugins": list(settings.disabled_plugins),
        "lock_wait": settings.lock_wait,
    }
    return json.dumps(doc)


def app_from_environment() -> Starlette:
    """The factory uvicorn calls in each worker process (settings from the environment)."""
    text = os.environ.get(SETTINGS_VARIABLE)
    if not text:
        raise GridcoreError(f"{SETTINGS_VARIABLE} is not set; start the service with gridcore serve "
                            "(未设置服务配置：请用 gridcore serve 启动服务)")
    doc = json.loads(text)
    when = doc.pop("test_clock")
    settings = Settings(
        **{**doc, "disabled_plugins": tuple(doc["disabled_plugins"])},
        test_clock=datetime.fromisoformat(when) if when else None,
    )
    return create_app(settings)


__all__ = ["MEDIA_TYPE", "app_from_environment", "create_app"]
