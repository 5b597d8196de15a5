"""The main job and its helpers on the command line: ``simulate``, ``demo``, ``diff``.

``commands()`` gives the click commands the root ``gridcore`` group adds:

* ``gridcore simulate``: a community's simulated days as JSON lines (what
  ``gridcore ingest`` reads);
* ``gridcore demo``: builds a community in a fresh store, simulates a quarter,
  runs every plugin and prints what happened;
* ``gridcore diff``: the same event log under two rulesets, every difference
  with the rules behind it.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from .errors import GridcoreError
from .simulate import SCENARIO_FILE, find_community, load_scenario, simulate, write_jsonl

DEFAULT_COMMUNITY = "yinquan"
#: A quarter that is exactly 90 days: 2025-Q1.
DEFAULT_START = date(2025, 1, 1)


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2025-01-01") from None


def community_option(func):  # type: ignore[no-untyped-def]
    """``--community NAME|DIR`` (a folder, a name under rulesets/, or the Chinese name)."""
    return click.option(
        "--community", "community_name", default=DEFAULT_COMMUNITY, show_default=True, metavar="NAME|DIR",
        help="A community folder, a folder name under rulesets/ (yinquan, cuihu, xingfuwan, chengqiao) "
             "or its Chinese name (银泉社区).",
    )(func)


@click.command("simulate")
@community_option
@click.option("--scenario", "scenario_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario file (default: scenario.yaml in the community folder).")
@click.option("--days", default=90, show_default=True, type=click.IntRange(0, 3660), help="How many days.")
@click.option("--start", callback=_date, metavar="DATE", help="First day (default 2025-01-01).")
@click.option("--seed", default=1, show_default=True, help="Random seed: the same seed gives the same events.")
@click.option("--out", "out_path", default="-", show_default=True, metavar="FILE",
              help="Where to write the JSON lines ('-' for standard output).")
def simulate_command(community_name: str, scenario_path: Path | None, days: int, start: date | None,
                     seed: int, out_path: str) -> None:
    """Write a community's simulated days as JSON lines for `gridcore ingest`."""
    from .rosterio import load_community

    try:
        folder = find_community(community_name)
        community = load_community(folder)
        scenario = load_scenario(scenario_path or folder / SCENARIO_FILE)
        events = simulate(community, scenario, days=days, start=start or DEFAULT_START, seed=seed)
        if out_path == "-":
            count = write_jsonl(events, sys.stdout)
        else:
            with open(out_path, "w", encoding="utf-8") as out:
                count = write_jsonl(events, out)
    except GridcoreError as exc:
        raise click.ClickException(str(exc)) from None
    where = "standard output" if out_path == "-" else out_path
    click.echo(f"{count} events of {community.name} ({days} days, seed {seed}) written to {where}", err=True)


def commands() -> list[click.Command]:
    """The commands this module adds to ``gridcore``."""
    return [simulate_command]
