"""``gridcore points ...``: balances, statements, the public board, redemption."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from gridcore import EventRefused, Table
from gridcore_app.cli import (
    fail,
    for_staff,
    format_option,
    now_option,
    open_engine,
    parse_period_written,
    person_id,
    refused_said,
    store_option,
)

from . import api
from .display import shown
from .headings import HEADINGS_ZH
from .reports import (
    board_table,
    flags_table,
    in_chinese,
    rewards_table,
    statement_table,
    totals_table,
)


@click.group()
def points() -> None:
    """Points (积分): balances, statements, the monthly board, redemption."""


@points.command()
@click.argument("member")
@store_option
@now_option
@format_option
def balance(member: str, store: str, now: datetime | None, fmt: str) -> None:
    """Show MEMBER's points balance now (after expiry)."""
    with open_engine(store, now=now, read_only=True) as engine:
        member = person_id(engine, member)
        value = api.balance(engine, member)
        name = api.state(engine).name_of(member)
        if fmt == "json":
            click.echo(json.dumps({"member": member, "name": name, "balance": value}, ensure_ascii=False))
        elif fmt == "csv":
            # Through Table, like every CSV: a byte-order mark, formula-like names kept inert.
            click.echo(Table("", ("member", "name", "balance"), ((member, name, value),),
                             headings=HEADINGS_ZH).render("csv"), nl=False)
        else:
            click.echo(f"{name} ({member}): {value} points (积分余额 {value} 分)")


@points.command()
@click.argument("member")
@click.option("--period", callback=parse_period_written, required=True, metavar="PERIOD", help="2025-03, 2025-Q1, 2025, 2025-W09 or 2025-03-01.")
@store_option
@now_option
@format_option
def statement(member: str, period: str, store: str, now: datetime | None, fmt: str) -> None:
    """Show MEMBER's points entries over a period."""
    with open_engine(store, now=now, read_only=True) as engine:
        member = person_id(engine, member)
        click.echo(_said(engine, statement_table(engine, member, period), fmt).render(fmt), nl=_needs_newline(fmt))


@points.command()
@click.argument("node")
@click.option("--month", "--period", "month", callback=parse_period_written, required=True, metavar="PERIOD",
              help="The month to publish, e.g. 2025-03 (or another period: 2025-Q1, 2025, 2025-W09).")
@store_option
@now_option
@format_option
def board(node: str, month: str, store: str, now: datetime | None, fmt: str) -> None:
    """Show the monthly public points board (ranking) of NODE."""
    with open_engine(store, now=now, read_only=True) as engine:
        click.echo(_said(engine, board_table(engine, _found_node(engine, node), month), fmt).render(fmt),
                   nl=_needs_newline(fmt))


@points.command()
@click.argument("node")
@click.option("--period", callback=parse_period_written, required=True, metavar="PERIOD", help="2025-03, 2025-Q1, 2025 ...")
@store_option
@now_option
@format_option
def totals(node: str, period: str, store: str, now: datetime | None, fmt: str) -> None:
    """Show points earned, redeemed and expired per node under NODE."""
    with open_engine(store, now=now, read_only=True) as engine:
        click.echo(_said(engine, totals_table(engine, _found_node(engine, node), period), fmt).render(fmt),
                   nl=_needs_newline(fmt))


@points.command()
@click.option("--node", default=None, help="Only under this node.")
@click.option("--period", callback=parse_period_written, default=None, metavar="PERIOD", help="Only in this period.")
@store_option
@now_option
@format_option
def flags(node: str | None, period: str | None, store: str, now: datetime | None, fmt: str) -> None:
    """List claims the anti-gaming rules flagged."""
    with open_engine(store, now=now, read_only=True) as engine:
        at = _found_node(engine, node) if node is not None else None
        click.echo(_said(engine, flags_table(engine, at, period), fmt).render(fmt), nl=_needs_newline(fmt))


@points.command()
@click.option("--node", default=None, metavar="NODE",
              help="The list of the ruleset governing this node (its id or name; default: the member's home, "
                   "else the whole tree's).")
@click.option("--member", default=None, help="Whose list: that of the ruleset governing the member's home.")
@store_option
@now_option
@format_option
def rewards(node: str | None, member: str | None, store: str, now: datetime | None, fmt: str) -> None:
    """Show the rewards list in force (积分礼遇清单) and the stock left.

    A community with its own variant of the district's rules has its own list:
    ``--node`` (or ``--member``, for the member's home) shows it."""
    with open_engine(store, now=now, read_only=True) as engine:
        at = _found_node(engine, node) if node is not None else None
        if at is None and member is not None:
            member = person_id(engine, member)
            at = api.home_of(engine, member)
        click.echo(_said(engine, rewards_table(engine, at), fmt).render(fmt), nl=_needs_newline(fmt))


@points.command()
@click.argument("member")
@click.argument("reward")
@click.option("--quantity", default=1, show_default=True, type=click.IntRange(min=1), help="How many.")
@click.option("--node", default=None, help="Where it is redeemed (default: the member's home or cell).")
@click.option("--actor", default=None, help="Who records it (default: the member).")
@click.option("--id", "event_id", default=None, help="Event id (default: made from member, reward and time).")
@store_option
@now_option
def redeem(
    member: str,
    reward: str,
    quantity: int,
    node: str | None,
    actor: str | None,
    event_id: str | None,
    store: str,
    now: datetime | None,
) -> None:
    """Redeem REWARD for MEMBER; refused with the reason if it cannot be done."""
    with open_engine(store, now=now) as engine:
        member = person_id(engine, member)
        ident = event_id or api.redemption_id(member, reward, engine.clock.now())
        already = engine.store.contains(ident)
        try:
            entry = api.redeem(engine, member, reward, quantity, node=node,
                               actor=None if actor is None else person_id(engine, actor, known=False), event_id=ident)
        except EventRefused as exc:
            fail(refused_said(exc.reasons))
            return
        note, note_zh = ("already recorded: ", "此前已记录，") if already else ("", "")
        click.echo(for_staff(
            f"{note}{shown(entry.summary)}: {entry.amount:+d} points, balance now {api.balance(engine, member)} "
            f"({entry.decision}) ({note_zh}积分 {entry.amount:+d} 分，余额 {api.balance(engine, member)} 分)"
        ))


def _found_node(engine: object, written: str) -> str:
    """The id of the node ``written`` names (its id or its name, ``银州社区``), else a clear error."""
    from gridcore import Engine, GridcoreError

    assert isinstance(engine, Engine)
    try:
        return engine.community.hierarchy.find(written).id
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None


def _said(engine: Any, table: Table, fmt: str) -> Table:
    """``table`` as staff read it under ``--lang zh`` (``reports.in_chinese``); JSON keeps the English, and
    English output is unchanged."""
    if getattr(fmt, "lang", "en") != "zh" or fmt == "json":
        return table
    return in_chinese(engine, table)


def _needs_newline(fmt: str) -> bool:
    # Text and CSV tables end with a newline already; JSON does not.
    return fmt == "json"
