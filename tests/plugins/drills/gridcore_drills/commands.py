"""``gridcore drills list``: the drills held in a period, from a store."""

from __future__ import annotations

from datetime import datetime

import click

from gridcore_app.cli import format_option, now_option, open_engine, store_option

from .reports import held_table, in_chinese


@click.group("drills")
def drills_group() -> None:
    """Drills (消防演练): what was held, against what the ruleset requires."""


@drills_group.command("list")
@click.option("--period", required=True, metavar="PERIOD", help="2025-Q1, 2025-03, 2025 ...")
@store_option
@now_option
@format_option
def list_command(period: str, store: str, now: datetime | None, fmt: str) -> None:
    """The drills held in PERIOD, each with whether it counts."""
    with open_engine(store, now=now) as engine:
        table = held_table(engine, period)
        if getattr(fmt, "lang", "en") == "zh" and fmt != "json":  # (JSON and English keep the values)
            table = in_chinese(engine, {"period": period}, table)
        click.echo(table.render(fmt), nl=False)
