"""``gridcore lsp``: the command; pygls is imported only when it runs (the ``lsp`` extra)."""

from __future__ import annotations

import click

from ..cli import plugin_manager


@click.command("lsp")
@click.option("--stdio", is_flag=True,
              help="Talk over standard input and output: the only transport, and the default "
                   "(editors' clients pass this flag; VS Code's always does).")
def lsp_command(stdio: bool) -> None:
    """A language server for .rules files over stdio (diagnostics, completion, hover, fmt)."""
    try:
        from .server import serve_stdio
    except ImportError as exc:
        raise click.ClickException(
            f"the language server needs pygls ({exc.name} is missing): "
            "pip install 'gridcore[lsp]'") from None
    serve_stdio(plugin_manager())
