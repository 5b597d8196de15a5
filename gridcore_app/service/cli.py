"""``gridcore serve`` (the live service) and ``gridcore tokens`` (who may use it).

Imports of the web stack wait until a command runs, so every other
``gridcore`` command starts as fast as before.
"""

from __future__ import annotations

import copy
import os
from datetime import datetime
from typing import Any

import click

from gridcore import Table
from gridcore.errors import GridcoreError
from gridcore_app.cli import (
    _DISABLED,
    fail,
    for_staff,
    format_option,
    open_engine,
    parse_time,
    plugin_manager,
    store_option,
)

#: seconds a worker process may take to answer uvicorn's health check (uvicorn's default: 5).  A worker
#: serving a district store holds its interpreter lock for seconds at times (a full garbage collection of
#: a 150-250 MiB heap, a replay after another process's checkpoint, a large JSON answer), longer on a
#: loaded machine; uvicorn answers a missed check with SIGKILL, losing every request the worker holds.
HEALTHCHECK_TIMEOUT = 30
#: seconds an action waits for a write lock another process holds before it is answered 503 (Retry-After):
#: under the 30-60 s a phone app or a proxy waits for an answer, so the phone hears why and retries
LOCK_WAIT = 20.0
#: seconds a stopping worker finishes the requests it holds before cancelling them (uvicorn's default: no limit)
GRACEFUL_TIMEOUT = 30


def _rate(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if value < 0:
        raise click.BadParameter("must be 0 (no limit) or more (应为 0（不限）或更大的数)")
    return value


@click.command("serve")
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes, each with its own engine on the same SQLite or PostgreSQL store "
                   "(a TinyDB store is served by one).")
@click.option("--intake", metavar="MEMBER",
              help="Roster member that anonymous residents' reports are recorded as (the duty desk or hotline "
                   "account). Without it anonymous reports are refused.")
@click.option("--public-dashboard", is_flag=True,
              help="Show the dashboard (but members' statements) without signing in: a wall screen on the "
                   "office network.")
@click.option("--max-body", default=64 * 1024, show_default=True, type=click.IntRange(1024, 64 * 1024 * 1024),
              help="Largest request body accepted, in bytes.")
@click.option("--rate", default=10.0, show_default=True, type=float, callback=_rate,
              help="Requests a second per token (or per address when anonymous), per worker; 0: no limit.")
@click.option("--burst", default=60, show_default=True, type=click.IntRange(1), help="Requests allowed at once.")
@click.option("--test-clock", callback=parse_time, metavar="TIME",
              help="For tests: a clock fixed at TIME that only POST /api/v1/tick moves.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]),
              help="How much uvicorn logs (each request at info; debug for more).")
@click.option("--healthcheck-timeout", default=HEALTHCHECK_TIMEOUT, show_default=True, type=click.IntRange(1),
              help="With --workers 2 or more: seconds a worker may take to answer uvicorn's health check before "
                   "uvicorn kills it (SIGKILL: the requests it holds are lost) and starts another. A worker on a "
                   "district store can hold its interpreter for seconds (a full garbage collection, a replay); "
                   "uvicorn's own default is 5.")
@click.option("--graceful-timeout", default=GRACEFUL_TIMEOUT, show_default=True, type=click.IntRange(1),
              help="On stopping (SIGTERM or Ctrl-C, or a worker uvicorn retires on SIGHUP or SIGTTOU): seconds a "
                   "worker goes on finishing the requests it holds, taking no new ones, before it cancels them.")
@click.option("--lock-wait", default=LOCK_WAIT, show_default=True, type=click.FloatRange(0.1),
              help="Seconds an action waits for the store's write lock while another process holds it (a long "
                   "gridcore ingest) before it is answered 503 with Retry-After, nothing stored; reads never wait.")
def serve_command(
    store: str, host: str, port: int, workers: int, intake: str | None, public_dashboard: bool, max_body: int,
    rate: float, burst: int, test_clock: datetime | None, log_level: str, healthcheck_timeout: int,
    graceful_timeout: int, lock_wait: float,
) -> None:
    """Serve the store: Open311 intake, a JSON API for every action, and the dashboard.

    One engine is kept open per worker process and refreshed from the store;
    uvicorn serves it.  Put a reverse proxy in front for TLS (docs/service.md).
    """
    import uvicorn

    from .app import FACTORY, SETTINGS_VARIABLE, create_app, settings_to_environment
    from .context import Settings
    from .live import LiveEngine, share_test_clock

    # worker processes build their own plugin manager: the same plugins (and $GRIDCORE_PLUGINS)
    disabled = tuple(click.get_current_context().find_root().meta.get(_DISABLED, []))
    settings = Settings(
        store=store, intake=intake, max_body=max_body, rate=rate, burst=burst, public_dashboard=public_dashboard,
        test_clock=test_clock, disabled_plugins=disabled, lock_wait=lock_wait,
    )
    plugins = plugin_manager()
    live = LiveEngine.open(store, now=test_clock, plugins=plugins)
    try:
        name = live.call(lambda engine: _check(engine, intake, workers))
        if test_clock is not None:  # every worker starts from here, whatever an earlier run left
            live.call(lambda engine: share_test_clock(engine, test_clock))
        if workers > 1:  # each worker opens its own engine; this one was for the checks
            live.close()
    except BaseException:
        live.close()
        raise
    base = f"http://{host}:{port}"
    processes = f", {workers} worker processes" if workers > 1 else ""
    click.echo(f"gridcore serve: {name} from {store} on {base}{processes}")
    click.echo(f"  dashboard {base}/dashboard/   API {base}/api/v1/openapi.json   "
               f"Open311 {base}/open311/v2/services.json", err=False)
    config: dict[str, Any] = {
        "host": host, "port": port, "log_level": log_level, "access_log": False, "log_config": _log_config(log_level),
        "proxy_headers": True, "server_header": False, "timeout_graceful_shutdown": graceful_timeout,
    }
    os.environ[SETTINGS_VARIABLE] = settings_to_environment(settings)
    if workers > 1:
        uvicorn.run(FACTORY, factory=True, workers=workers, timeout_worker_healthcheck=healthcheck_timeout, **config)
        return
    try:
        uvicorn.run(create_app(settings, live=live, plugins=plugins), **config)
    finally:
        live.close()


def _check(engine: Any, intake: str | None, workers: int) -> str:
    from gridcore.store.tinydb_store import TinyDBStore

    if intake is not None and (intake == "system" or intake not in engine.community.members):
        raise GridcoreError(f"--intake {intake!r} is not a member on the roster of {engine.community.name} "
                            f"(--intake 应是{engine.community.name}花名册上的成员)")
    if workers > 1 and isinstance(engine.store, TinyDBStore):
        raise GridcoreError(
            f"--workers {workers}: the TinyDB store {engine.store.url} has one writer at a time, so it is served "
            "by one worker process. Use --workers 1, or move the store to SQLite or PostgreSQL "
            "(gridcore migrate --from STORE --to sqlite:///FILE.db) for several "
            "(TinyDB 存储只允许一个写入进程：请使用 --workers 1，或迁移到 SQLite / PostgreSQL)"
        )
    return str(engine.community.name)


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, plus the service's own secret-free access log (at info level)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["gridcore.service"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


@click.group("tokens")
def tokens_group() -> None:
    """API tokens for gridcore serve: issue, list, revoke (stored hashed)."""


@tokens_group.command("issue")
@click.argument("member")
@click.option("--label", default="", help="What the token is for (a phone, an app).")
@store_option
def issue_command(member: str, label: str, store: str) -> None:
    """Issue a token for MEMBER; it is shown once, and the store keeps only its hash."""
    from . import auth
    from .problems import Problem

    with open_engine(store) as engine:
        try:
            token, secret = auth.issue(engine, member, label)
        except Problem as problem:
            fail(_said(problem))
            return
    click.echo(secret)
    click.echo(for_staff(f"token {token.id} for {token.member} issued; it is shown only this once: keep it secret "
                         f"(已为 {token.member} 签发令牌 {token.id}；令牌只显示这一次，请妥善保管)"), err=True)


@tokens_group.command("revoke")
@click.argument("token")
@store_option
def revoke_command(token: str, store: str) -> None:
    """Revoke TOKEN (its id, as `tokens list` shows it): it stops working at once."""
    from . import auth
    from .problems import Problem

    with open_engine(store) as engine:
        try:
            found = auth.revoke(engine.store, token, engine.clock.now())
        except Problem as problem:
            fail(_said(problem))
            return
    click.echo(for_staff(f"token {found.id} of {found.member} revoked ({found.revoked}) "
                         f"(已撤销 {found.member} 的令牌 {found.id})"))


def _said(problem: Any) -> str:
    """A problem as the command line says it: its detail, with its Chinese beside it."""
    return f"{problem.detail} ({problem.detail_zh})" if problem.detail_zh else str(problem.detail)


@tokens_group.command("list")
@store_option
@format_option
def list_command(store: str, fmt: str) -> None:
    """Every token issued: id, member, label, when issued and revoked (never the secret)."""
    from . import auth

    with open_engine(store) as engine:
        rows = tuple((t.id, t.member, t.label, t.issued, t.revoked or "") for t in auth.tokens(engine.store))
    click.echo(Table("API tokens 令牌", ("token", "member", "label", "issued", "revoked"), rows).render(fmt), nl=False)


def commands() -> list[click.Command]:
    """The service's commands."""
    return [serve_command, tokens_group]
