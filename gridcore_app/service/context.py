"""The service a request is served by: its settings, its live engine, and who is asking.

Routes (the service's own and plugins') reach it with ``service_of(request)``;
``Service.read`` and ``Service.act`` run work on the engine and turn the
engine's errors into problem documents: a refused event becomes 422 with
every reason, a malformed one 400, an unknown incident or member 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from starlette.requests import Request

from gridcore import Engine
from gridcore.classes import frozen
from gridcore.errors import EventError, EventRefused, GridcoreError, PluginError, StoreError

from . import auth
from .guards import client_address
from .live import LiveEngine, StoreBusy
from .problems import Problem, passed_on, refused, store_busy
from .rollups import Rollups

T = TypeVar("T")

#: seconds a phone is told to wait (``Retry-After``) before sending again an action the write lock held up
RETRY_AFTER = 10
#: Roles that make a member community staff for reads of other members' accounts.
NOT_STAFF = frozenset({"resident", "volunteer"})


@frozen
class Settings:
    """How a service runs (``gridcore serve`` options)."""

    store: str
    #: roster member that anonymous reports are recorded as (None: anonymous reports are refused)
    intake: str | None = None
    max_body: int = 64 * 1024
    rate: float = 10.0
    burst: int = 60
    #: dashboard pages without signing in (an office wall screen on a closed network)
    public_dashboard: bool = False
    #: a fixed clock starting here, moved only by ``POST /api/v1/tick`` (tests)
    test_clock: datetime | None = None
    disabled_plugins: tuple[str, ...] = ()
    #: seconds an action waits for the write lock another process holds (a long ``gridcore ingest``) before
    #: it is answered 503 with ``Retry-After``, nothing stored (docs/service.md)
    lock_wait: float = 20.0


class Service:
    """One worker process's service: settings and the engine kept open."""

    def __init__(self, settings: Settings, live: LiveEngine) -> None:
        self.settings = settings
        self.live = live
        #: roll-ups computed off the engine's thread, and kept (``rollups``)
        self.rollups = Rollups()

    # ------------------------------------------------------------ running work

    async def read(self, work: Callable[[Engine], T]) -> T:
        """Run a read on the engine, caught up with the store; engine errors become problems."""
        live = self.live
        return await live.run(lambda engine: _translated(lambda e: live.reading(e, work), engine))

    async def act(self, work: Callable[[Engine], T]) -> T:
        """Run an action on the engine under the write lock, caught up with the store.

        Engine errors (refusals included) become problems; a write lock another process held for longer
        than ``Settings.lock_wait`` the problem ``store-busy`` (503, ``Retry-After``), nothing stored.
        """
        live = self.live
        try:
            return await live.act(lambda engine: _translated(lambda e: live.acting(e, work), engine),
                                  wait=self.settings.lock_wait)
        except StoreBusy as busy:
            raise store_busy(busy.waited, busy.holder, RETRY_AFTER) from None

    # ------------------------------------------------------------ callers

    async def caller(self, request: Request, form: Mapping[str, str] | None = None) -> auth.Caller:
        """Who sent ``request``: the member of a valid bearer token (or Open311 ``api_key``), else anonymous.

        A token that is given but unknown, revoked or wrong is refused (401),
        never treated as anonymous.
        """
        presented = _bearer(request)
        if presented is None and form is not None:
            presented = form.get("api_key") or None
        if "api_key" in request.query_params:
            raise Problem(
                "invalid-request",
                "send api_key in the form body or as Authorization: Bearer, never in the URL (URLs are logged)",
                "api_key 请放在表单正文或 Authorization 头中，不要放在网址里（网址会被记录）",
            )
        address = client_address(request.scope)
        if presented is None:
            return auth.Caller(None, None, address)
        token = await self.live.run(lambda engine: auth.check(engine.store, presented))
        if token is None:
            raise Problem("unauthorized", "the token is unknown, revoked or wrong", "令牌无效、已撤销或不正确")
        return auth.Caller(token.member, token.id, address)

    async def member(self, request: Request) -> auth.Caller:
        """The caller, who must hold a token (401 otherwise)."""
        who = await self.caller(request)
        if who.anonymous:
            raise Problem(
                "unauthorized",
                "this needs a token: send Authorization: Bearer <token>",
                "需要令牌：请发送 Authorization: Bearer <令牌>",
            )
        return who


def service_of(request: Request) -> Service:
    """The service serving ``request`` (for plugin routes)."""
    found = request.app.state.service
    assert isinstance(found, Service)
    return found


def is_staff(engine: Engine, member: str) -> bool:
    """True if ``member`` holds any role other than resident or volunteer."""
    found = engine.community.members.get(member)
    return found is not None and any(a.role not in NOT_STAFF for a in found.roles)


def staff_over(engine: Engine, reader: str, nodes: Iterable[str]) -> bool:
    """True if ``reader`` holds a staff role (any but resident and volunteer) at one of ``nodes`` or above it:
    a grid's staff over their grid, a street's over its communities, never over another street's."""
    found = engine.community.members.get(reader)
    posts = [a.node for a in found.roles if a.role not in NOT_STAFF] if found is not None else []
    hierarchy = engine.community.hierarchy
    return bool(posts) and any(node in hierarchy and hierarchy.is_within_any(node, posts) for node in nodes)


def where_of(engine: Engine, member: str) -> tuple[str, ...]:
    """Where ``member`` belongs: the nodes of their roles and their home, or a registered resident's cell."""
    if member in engine.community.members:
        return engine.community.cells_of(member)
    cell = engine.residents().get(member)
    return (cell,) if cell else ()


def may_read_account(engine: Engine, reader: str, member: str) -> None:
    """A member's own account, or one staff hold a role over (where the member belongs or above); 403
    otherwise.  Someone who belongs nowhere known is left to the read itself (any staff, as before)."""
    if reader == member:
        return
    where = where_of(engine, member)
    if staff_over(engine, reader, where) if where else is_staff(engine, member=reader):
        return
    raise Problem(
        "forbidden",
        f"{reader} may read only their own points; {member}'s are for the member and the staff of where they "
        "belong (their cells or above)",
        f"{reader} 只能查看自己的积分；{member} 的积分只供本人及其所在网格或上级的工作人员查看",
    )


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object body (``{}`` for an empty optional body)."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise Problem("invalid-request", "the body is empty; send a JSON object", "请求内容为空，请发送 JSON 对象")
        return {}
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind not in ("application/json", "application/problem+json") and not kind.endswith("+json"):
        raise Problem("unsupported", f"send application/json, not {kind}", f"请发送 application/json，而不是 {kind}")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Problem("invalid-request", f"the body is not valid JSON: {exc}", "请求内容不是有效的 JSON") from None
    if not isinstance(value, dict):
        raise Problem("invalid-request", "the body must be a JSON object", "请求内容必须是 JSON 对象")
    return value


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Problem("unauthorized", "use Authorization: Bearer <token>", "请使用 Authorization: Bearer <令牌>")
    return value.strip()


def _translated(work: Callable[[Engine], T], engine: Engine) -> T:
    try:
        return work(engine)
    except Problem:
        raise
    except EventRefused as exc:
        raise refused(exc.event_id, exc.reasons) from None
    except EventError as exc:
        raise passed_on("invalid-event", str(exc)) from None
    except StoreError as exc:
        raise passed_on("store-error", str(exc)) from None
    except PluginError:
        raise  # a plugin's bug, not the request's: a logged server error (app.py)
    except GridcoreError as exc:
        message = str(exc)
        slug = "not-found" if message.startswith(("no ", "unknown ")) else "invalid-request"
        raise passed_on(slug, message) from None
