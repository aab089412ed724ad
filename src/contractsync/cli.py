"""The `contractsync` command line (typer + rich)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Keep Autotask billing in step with CSP.")


def main() -> None:
    app()
