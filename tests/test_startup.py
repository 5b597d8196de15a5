"""A lean start: listing commands loads plugins, not what their commands need.

(How long it takes is measured in benchmarks/cold_start.py; here, what is imported.)
"""

from __future__ import annotations

import subprocess
import sys

import click

from gridcore.plugin_host import Hooks
from gridcore_app.cli import APP_COMMANDS, LazyCommand, main_group, plugin_manager

HEAVY = ("lark", "cattrs", "yaml", "psycopg", "gridcore.engine", "gridcore.rules", "gridcore.community",
         "gridcore_app.demo", "gridcore_app.rules_cli", "gridcore_points.state", "gridcore_points.commands",
         "gridcore_escalation.state", "gridcore_escalation.commands", "gridcore_assessment.rating",
         "gridcore_assessment.commands", "gridcore_assessment.state")


def loaded_after(*args: str) -> set[str]:
    code = ("import sys\nfrom gridcore_app.cli import main_group\n"
            f"main_group({list(args)!r}, prog_name='gridcore', standalone_mode=False)\n"
            "print(' '.join(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.splitlines()[-1].split())


def test_help_lists_every_command_without_importing_them() -> None:
    modules = loaded_after("--help")
    assert {"gridcore_points.plugin", "gridcore_escalation.plugin", "gridcore_assessment.plugin"} <= modules
    heavy = sorted(m for m in modules if m.startswith(HEAVY))
    assert heavy == []


def test_a_lazy_command_says_what_its_command_says() -> None:
    with click.Context(main_group):
        lazy = [c for c in [*(LazyCommand(*spec) for spec in APP_COMMANDS),
                            *Hooks(plugin_manager()).register_commands()] if isinstance(c, LazyCommand)]
    assert {c.name for c in lazy} >= {"check", "demo", "points", "incidents", "assess"}
    for command in lazy:
        real = command.load()
        assert real.name == command.name
        assert command.get_short_help_str(100) == real.get_short_help_str(100), command.name


def test_a_lazy_command_runs_as_itself() -> None:
    from click.testing import CliRunner

    helped = CliRunner().invoke(main_group, ["points", "--help"])
    assert helped.exit_code == 0, helped.output
    assert "points [OPTIONS] COMMAND" in helped.output  # the real group's own help
    assert "board" in helped.output and "balance" in helped.output
