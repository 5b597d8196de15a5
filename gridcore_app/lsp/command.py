"""``gridcore lsp``: the command; pygls is imported only when it runs (the ``lsp`` extra)."""

from __future__ import annotations

import click

from ..cli import plugin_manager


@click.command("lsp")
def lsp_command() -> None:
    """A language server for .rules files over stdio (diagnostics, completion, hover, fmt)."""
    try:
        from .server import serve_stdio
    except ImportError as exc:
        raise click.ClickException(
            f"the language server needs pygls ({exc.name} is missing): "
            "pip install 'gridcore[lsp]'") from None
    serve_stdio(plugin_manager())
