"""What every request passes before a route sees it: size and rate limits, and the access log.

* **Size**: a body larger than ``max_body`` bytes is refused with 413 before
  it is read into memory (``Content-Length`` is checked first, then the bytes
  actually received).
* **Rate**: a token bucket per token (the id part of the bearer token or
  Open311 ``api_key``) or, without one, per client address: ``rate``
  requests a second on average, ``burst`` at once.  Each worker process keeps
  its own buckets, so with N workers the service as a whole allows up to N
  times that; a reverse proxy in front can limit the total (docs/service.md).
* **Logs**: one line per request (method, path, status, milliseconds, token
  id, the worker's process id) with secrets left out: no ``Authorization`` header, no bearer secret,
  and query parameters that carry secrets (``api_key``, ``report_key``,
  ``token``) are shown as ``***``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from attrs import field

from gridcore.classes import define

from .problems import Problem, language_of

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECRET_PARAMS = frozenset({"api_key", "report_key", "token"})
LOG = logging.getLogger("gridcore.service.access")


@define
class Bucket:
    """A token bucket: ``tokens`` left, refilled at ``rate`` per second up to ``burst``."""

    tokens: float
    stamp: float


@define
class RateLimiter:
    """Per-key token buckets (``rate`` per second, ``burst`` at once; ``rate`` 0 turns limits off)."""

    rate: float
    burst: int
    buckets: dict[str, Bucket] = field(factory=dict)

    def wait_for(self, key: str, now: float) -> float:
        """Take one request from ``key``'s bucket: 0 if allowed, else the seconds until it would be."""
        if self.rate <= 0:
            return 0.0
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) > 100_000:  # forget idle keys rather than grow without bound
                self.buckets.clear()
            bucket = self.buckets[key] = Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


def token_id(scope: Scope) -> str | None:
    """The id part of a bearer token or ``api_key`` query parameter, without checking it."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                return _id(text[7:].strip())
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name == "api_key":
            return _id(value)
    return None


def _id(secret: str) -> str:
    parts = secret.split("_", 2)
    return parts[1] if len(parts) == 3 else "malformed"


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it (behind a proxy: run uvicorn with --proxy-headers)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def redacted_query(query: bytes) -> str:
    """The query string with secret parameters masked."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k in SECRET_PARAMS else v) for k, v in pairs])


class Guards:
    """ASGI middleware: size limit, rate limit and a secret-free access log around ``app``."""

    def __init__(self, app: ASGIApp, *, max_body: int, limiter: RateLimiter, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.max_body = max_body
        self.limiter = limiter
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]
        ident = token_id(scope)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            problem = self._refusal(scope, ident)
            if problem is not None:
                await _answer(problem, scope, sending)
                return
            await self.app(scope, self._bounded(receive), sending)
        except Problem as problem:  # a body that grew past the limit while being read
            await _answer(problem, scope, sending)
        finally:
            query = scope.get("query_string", b"")
            path = scope.get("path", "") + (f"?{redacted_query(query)}" if query else "")
            LOG.info(
                "%s %s %s %.1fms %s pid=%d",
                scope.get("method"),
                path,
                status[0],
                (time.perf_counter() - started) * 1000,
                f"token={ident}" if ident else f"anonymous@{client_address(scope)}",
                os.getpid(),  # which worker process served it
            )

    def _refusal(self, scope: Scope, ident: str | None) -> Problem | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    return Problem("invalid-request", "Content-Length is not a number", "Content-Length 不是数字")
                if size > self.max_body:
                    return _too_large(self.max_body)
        key = f"token:{ident}" if ident else f"address:{client_address(scope)}"
        wait = self.limiter.wait_for(key, self.clock())
        if wait > 0:
            seconds = max(1, int(wait + 0.999))
            return Problem(
                "rate-limited",
                f"more than {self.limiter.rate:g} requests a second (burst {self.limiter.burst}); "
                f"retry after {seconds} s",
                f"请求过于频繁（每秒最多 {self.limiter.rate:g} 次），请 {seconds} 秒后再试",
                headers={"Retry-After": str(seconds)},
            )
        return None

    def _bounded(self, receive: Receive) -> Receive:
        seen = [0]

        async def bounded() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > self.max_body:
                    raise _too_large(self.max_body)
            return message

        return bounded


def _too_large(limit: int) -> Problem:
    return Problem("too-large", f"the body is larger than {limit} bytes", f"请求内容超过 {limit} 字节")


async def _answer(problem: Problem, scope: Scope, send: Send) -> None:
    asked = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    lang = language_of(asked)
    body = json.dumps(problem.document(scope.get("path"), lang), ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    headers += [(b"content-language", b"zh")] if lang == "zh" else []
    headers += [(k.lower().encode(), v.encode()) for k, v in problem.headers.items()]
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
